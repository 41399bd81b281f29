import Plot

/// Body content of the page: HTML elements and inline SVG share one context.
typealias BodyNode = Node<HTML.BodyContext>

/// Text from a core (C++ names with `<`, `&`, quotes) made safe for element content and
/// attribute values alike. Plot writes attribute values as given, so every value passes here.
func escapedHTML(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for character in text.unicodeScalars {
        switch character {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.unicodeScalars.append(character)
        }
    }
    return out
}

/// A text node, escaped as `escapedHTML` does (Plot's own escaping keeps `&name;` sequences).
func textNode(_ text: String) -> BodyNode { .raw(escapedHTML(text)) }

/// An element with attributes and children; SVG's elements and `data-` attributes have no
/// Plot functions of their own.
func element(_ name: String, _ attributes: KeyValuePairs<String, String> = [:], _ children: [BodyNode] = []) -> BodyNode {
    .element(named: name, nodes: attributes.map { BodyNode.attribute(named: $0.key, value: escapedHTML($0.value),
                                                                     ignoreIfValueIsEmpty: false) } + children)
}

/// Same, with attributes computed at run time.
func element(_ name: String, attributes: [(String, String)], _ children: [BodyNode] = []) -> BodyNode {
    .element(named: name, nodes: attributes.map { BodyNode.attribute(named: $0.0, value: escapedHTML($0.1),
                                                                     ignoreIfValueIsEmpty: false) } + children)
}
