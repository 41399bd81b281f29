/// What a block is to the libstdc++ container that owns it: the address-free identity of a
/// block that has no vtable. Sets, multimaps and unordered sets share the map shapes.
/// Raw values rank roles for `ContainerRoles`: when two owners disagree the higher one wins,
/// so the answer does not depend on which pointer a mark worker saw first.
public enum ContainerRole: UInt8, Sendable, CaseIterable {
    case none = 0
    /// The heap buffer of a `std::vector`, from a {start, finish, end_of_storage} header.
    case vectorBody = 1
    /// A block of a `std::deque`'s elements, from the deque's header.
    case dequeBlock = 2
    /// A `std::deque`'s map of block pointers.
    case dequeMap = 3
    /// The characters of a `std::string` longer than 15 bytes.
    case stringBody = 4
    /// An `_Rb_tree_node` of `std::map`, `std::set`, `std::multimap`.
    case mapNode = 5
    /// A `_List_node` of `std::list`.
    case listNode = 6
    /// A `_Hash_node` of `std::unordered_map` or `std::unordered_set`.
    case hashNode = 7
    /// An unordered container's bucket array.
    case hashBuckets = 8

    public var displayName: String {
        switch self {
        case .none: "block"
        case .vectorBody: "vector body"
        case .dequeBlock: "std::deque block"
        case .dequeMap: "std::deque map"
        case .stringBody: "long string body"
        case .mapNode: "std::map node"
        case .listNode: "std::list node"
        case .hashNode: "std::unordered_map node"
        case .hashBuckets: "std::unordered_map buckets"
        }
    }

    /// Nodes of different containers differ in size, and the size tells their maps apart; so
    /// does a long string's, which tells labels from payloads (one group of every string in a
    /// program would outweigh the objects that own them). Buffers of one container differ in
    /// size with its length, so they are one group, named by their elements instead.
    public var groupsBySize: Bool {
        switch self {
        case .mapNode, .listNode, .hashNode, .stringBody: true
        default: false
        }
    }
}
