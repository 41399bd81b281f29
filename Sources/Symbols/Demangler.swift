import CElfutils
#if canImport(Glibc)
import Glibc
#endif

/// C++ names as people read them, through libstdc++'s own demangler.
public enum Demangler {
    /// Demangles a symbol (`_ZTV3Dog`) or a bare type name (`3Dog`, as typeinfo stores it);
    /// nil when the text is not a valid mangled name.
    public static func demangle(_ mangled: String) -> String? {
        guard !mangled.isEmpty else { return nil }
        var status: Int32 = 0
        guard let result = __cxa_demangle(mangled, nil, nil, &status) else { return nil }
        defer { free(result) }
        guard status == 0 else { return nil }
        return String(cString: result)
    }

    /// The demangled type named by a typeinfo name string. GCC marks types with internal
    /// linkage (anonymous namespaces) with a leading `*`, which is not part of the mangling.
    public static func demangleType(_ typeinfoName: String) -> String? {
        demangle(typeinfoName.hasPrefix("*") ? String(typeinfoName.dropFirst()) : typeinfoName)
    }
}
