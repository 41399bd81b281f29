import Foundation
import Symbols
import Testing
import TestFixtures

/// The `classes` sample's description of itself (see Samples/README.md).
struct ClassesTruth {
    struct Class {
        let name: String
        let mangledVtable: String
        let count: Int
        let size: UInt64
        let vtable: UInt64
        let secondaryVptrs: [UInt64]
        let module: String
    }

    let classes: [Class]
    let executable: String
    let library: String

    init(_ sample: SampleCore) throws {
        try self.init(truth: sample.truth)
    }

    init(truth: [String: Any]) throws {
        let list = try #require(truth["classes"] as? [[String: Any]])
        classes = try list.map { entry in
            Class(name: try #require(entry["name"] as? String),
                  mangledVtable: try #require(entry["mangled_vtable"] as? String),
                  count: try #require((entry["count"] as? NSNumber)?.intValue),
                  size: try #require((entry["size"] as? NSNumber)?.uint64Value),
                  vtable: try #require(truthAddress(entry["vtable"])),
                  secondaryVptrs: (entry["secondary_vptrs"] as? [Any] ?? []).compactMap(truthAddress),
                  module: try #require(entry["module"] as? String))
        }
        executable = try #require(truth["exe"] as? String)
        library = try #require(truth["libshapes"] as? String)
    }

    var stringstream: Class? { classes.first { $0.name.contains("basic_stringstream") } }

    /// The only polymorphic objects on the heap that the truth does not list: the
    /// `basic_stringbuf` member inside each `std::stringstream` (a subobject with its own vptr).
    static let memberClass = "std::__cxx11::basic_stringbuf<char, std::char_traits<char>, std::allocator<char> >"
}
