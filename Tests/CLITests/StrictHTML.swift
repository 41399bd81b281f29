/// A strict reader of the HTML heapscan writes (and Chromium serialises): every element closed
/// in order, attribute values double-quoted, `<`, `>` and `&` in text escaped, known entities
/// only. Anything looser is an error, which is what a test of the report wants: a page a
/// browser would repair silently is already broken.
final class HTMLElement {
    let name: String
    let attributes: [String: String]
    var children: [HTMLElement] = []
    /// The element's own text, unescaped; descendants' text is in `textContent`.
    var text = ""
    weak var parent: HTMLElement?

    init(name: String, attributes: [String: String]) {
        self.name = name
        self.attributes = attributes
    }

    var textContent: String { text + children.map(\.textContent).joined() }

    /// Every descendant (depth first, document order) for which `matches` holds.
    func all(_ matches: (HTMLElement) -> Bool) -> [HTMLElement] {
        children.flatMap { child in (matches(child) ? [child] : []) + child.all(matches) }
    }

    func all(named name: String) -> [HTMLElement] { all { $0.name == name } }

    func first(_ matches: (HTMLElement) -> Bool) -> HTMLElement? { all(matches).first }
}

struct StrictHTMLError: Error, CustomStringConvertible {
    let offset: Int
    let message: String
    var description: String { "at byte \(offset): \(message)" }
}

enum StrictHTML {
    static let voidElements: Set<String> = ["meta", "link", "br", "hr", "img", "input", "source", "wbr", "area", "base", "col"]
    static let rawTextElements: Set<String> = ["script", "style"]
    static let entities = ["amp": "&", "lt": "<", "gt": ">", "quot": "\"", "#39": "'", "nbsp": "\u{a0}", "apos": "'"]

    /// The document's root element (`html`), after an optional doctype.
    static func parse(_ source: String) throws -> HTMLElement {
        let bytes = Array(source.utf8)
        var position = 0
        func fail(_ message: String) -> StrictHTMLError { StrictHTMLError(offset: position, message: message) }
        func starts(with prefix: String, caseInsensitive: Bool = false) -> Bool {
            let prefixBytes = Array(prefix.utf8)
            guard position + prefixBytes.count <= bytes.count else { return false }
            let slice = Array(bytes[position..<position + prefixBytes.count])
            return caseInsensitive ? String(decoding: slice, as: UTF8.self).lowercased() == prefix.lowercased() : slice == prefixBytes
        }
        func skipSpace() { while position < bytes.count, [0x20, 0x0a, 0x09, 0x0d].contains(bytes[position]) { position += 1 } }
        func name() throws -> String {
            let start = position
            while position < bytes.count, let scalar = Unicode.Scalar(UInt32(bytes[position])),
                  scalar.properties.isAlphabetic || ("0"..."9").contains(Character(scalar)) || "-_:".unicodeScalars.contains(scalar) {
                position += 1
            }
            guard position > start else { throw fail("expected a name") }
            return String(decoding: bytes[start..<position], as: UTF8.self)
        }
        func unescape(_ raw: ArraySlice<UInt8>) throws -> String {
            let text = String(decoding: raw, as: UTF8.self)
            var out = ""
            var rest = Substring(text)
            while let ampersand = rest.firstIndex(of: "&") {
                out += rest[..<ampersand]
                guard let semicolon = rest[ampersand...].firstIndex(of: ";") else { throw fail("bare & in '\(text.prefix(80))'") }
                let entity = String(rest[rest.index(after: ampersand)..<semicolon])
                guard let value = entities[entity] else { throw fail("unknown entity &\(entity);") }
                out += value
                rest = rest[rest.index(after: semicolon)...]
            }
            return out + rest
        }

        skipSpace()
        if starts(with: "<!DOCTYPE html>", caseInsensitive: true) { position += 15 }
        let document = HTMLElement(name: "#document", attributes: [:])
        var current = document
        while position < bytes.count {
            if starts(with: "<!--") { throw fail("comment") }
            if starts(with: "</") {
                position += 2
                let closing = try name()
                guard position < bytes.count, bytes[position] == UInt8(ascii: ">") else { throw fail("malformed </\(closing)") }
                position += 1
                guard closing == current.name, let parent = current.parent else {
                    throw fail("</\(closing)> closes <\(current.name)>")
                }
                current = parent
            } else if bytes[position] == UInt8(ascii: "<") {
                position += 1
                let tag = try name()
                var attributes: [String: String] = [:]
                while true {
                    skipSpace()
                    guard position < bytes.count else { throw fail("unterminated <\(tag)>") }
                    if bytes[position] == UInt8(ascii: ">") { position += 1; break }
                    if starts(with: "/>") {
                        // HTML allows the slash on void elements only; anywhere else it is ignored.
                        guard voidElements.contains(tag) else { throw fail("self-closed <\(tag)/>") }
                        position += 2
                        break
                    }
                    let attribute = try name()
                    guard attributes[attribute] == nil else { throw fail("duplicate attribute \(attribute) on <\(tag)>") }
                    if position < bytes.count, bytes[position] == UInt8(ascii: "=") {
                        position += 1
                        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                            throw fail("unquoted value of \(attribute) on <\(tag)>")
                        }
                        position += 1
                        let start = position
                        while position < bytes.count, bytes[position] != UInt8(ascii: "\"") {
                            if bytes[position] == UInt8(ascii: "<") { throw fail("< in the value of \(attribute)") }
                            position += 1
                        }
                        guard position < bytes.count else { throw fail("unterminated value of \(attribute)") }
                        attributes[attribute] = try unescape(bytes[start..<position])
                        position += 1
                    } else {
                        attributes[attribute] = ""
                    }
                }
                let element = HTMLElement(name: tag, attributes: attributes)
                element.parent = current
                current.children.append(element)
                if voidElements.contains(tag) { continue }
                if rawTextElements.contains(tag) {
                    let start = position
                    while position < bytes.count, !starts(with: "</\(tag)>") { position += 1 }
                    guard position < bytes.count else { throw fail("unterminated <\(tag)>") }
                    element.text = String(decoding: bytes[start..<position], as: UTF8.self)
                    position += tag.utf8.count + 3
                    continue
                }
                current = element
            } else {
                let start = position
                while position < bytes.count, bytes[position] != UInt8(ascii: "<") {
                    if bytes[position] == UInt8(ascii: ">") { throw fail("unescaped > in text") }
                    position += 1
                }
                current.text += try unescape(bytes[start..<position])
            }
        }
        guard current === document else { throw fail("<\(current.name)> is never closed") }
        let roots = document.children
        guard roots.count == 1, let root = roots.first, root.name == "html" else {
            throw fail("the document's elements are \(roots.map(\.name)), not one <html>")
        }
        guard document.text.allSatisfy(\.isWhitespace) else { throw fail("text outside <html>") }
        return root
    }
}
