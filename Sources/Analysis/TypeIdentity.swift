/// The dynamic type of an object whose first word is a vtable address point.
public struct TypeIdentity: Sendable, Hashable {
    public let name: String
    public let module: String?

    public init(name: String, module: String?) {
        self.name = name
        self.module = module
    }
}
