/// `std::_Sp_counted_ptr_inplace<Subscri…>`, `/usr/lib/x86…/libc.so.6`: a name shortened to
/// `width` characters by cutting its middle. A C++ name keeps its head, which names the
/// template and its first arguments, and closes the brackets the head opened; any other name
/// keeps both ends (a path's file name, a symbol's offset).
func elidedMiddle(_ text: String, to width: Int) -> String {
    guard text.count > width else { return text }
    guard width > 1 else { return String("…".prefix(width)) }
    // `0x7f3c7c00c300 32-byte blocks`: the address is what a reader copies; the name gives way.
    if text.hasPrefix("0x"), let space = text.firstIndex(of: " "), text.distance(from: text.startIndex, to: space) + 3 <= width {
        let address = text[..<space]
        return address + " " + elidedMiddle(String(text[text.index(after: space)...]), to: width - address.count - 1)
    }
    let characters = Array(text)
    let room = width - 1
    if characters.contains("<") {
        var head = room
        var closers = 0
        // Closing brackets take room from the head, which may open fewer brackets then.
        for _ in 0..<2 {
            let open = characters.prefix(head).reduce(0) { $0 + ($1 == "<" ? 1 : $1 == ">" ? -1 : 0) }
            closers = min(max(open, 0), room / 4)
            head = room - closers
        }
        return String(characters.prefix(head)) + "…" + String(repeating: ">", count: closers)
    }
    // A path's file name says more than its directories.
    let head = text.contains("/") ? room / 3 : room / 2
    return String(characters.prefix(head)) + "…" + String(characters.suffix(room - head))
}

/// `0x7fa1b4000bb0 0x7fa1b4000c10 …`: as many whole items as fit in `width`, then "…".
func firstItems(_ text: String, to width: Int) -> String {
    guard text.count > width else { return text }
    let items = text.split(separator: " ").map(String.init)
    var kept = ""
    for item in items {
        let candidate = kept.isEmpty ? item : kept + " " + item
        guard candidate.count + 2 <= width else { break }
        kept = candidate
    }
    return kept.isEmpty ? elidedMiddle(items.first ?? text, to: width) : kept + " …"
}

/// Text with every line longer than `width` wrapped at spaces, continued two columns further
/// in; a word longer than a line is split. The spaces between words stay as they were (labels
/// padded into columns). Tables arrive fitted already; this keeps headers, notes and warnings
/// inside the width too. Without a width the text is unchanged.
func wrapped(_ text: String, width: Int?) -> String {
    guard let width else { return text }
    return text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
        guard line.count > width else { return String(line) }
        let leading = line.prefix { $0 == " " }.count
        let indent = String(repeating: " ", count: min(leading + 2, width / 2))
        var out: [String] = []
        var current = String(repeating: " ", count: leading)
        var currentHasWord = false
        for (spaces, word) in spacedWords(line.dropFirst(leading)) {
            var word = word
            while !word.isEmpty {
                let separator = currentHasWord ? spaces : ""
                if current.count + separator.count + word.count <= width {
                    current += separator + word
                    currentHasWord = true
                    word = ""
                } else if currentHasWord {
                    out.append(current)
                    current = indent
                    currentHasWord = false
                } else {
                    let room = max(1, width - current.count)
                    current += word.prefix(room)
                    word = word.dropFirst(room)
                    out.append(current)
                    current = indent
                }
            }
        }
        if currentHasWord { out.append(current) }
        return out.joined(separator: "\n")
    }.joined(separator: "\n")
}

/// Each word of `text` with the run of spaces before it.
private func spacedWords(_ text: Substring) -> [(spaces: String, word: Substring)] {
    var words: [(String, Substring)] = []
    var rest = text
    while !rest.isEmpty {
        let spaces = rest.prefix { $0 == " " }
        rest = rest.dropFirst(spaces.count)
        let word = rest.prefix { $0 != " " }
        rest = rest.dropFirst(word.count)
        if !word.isEmpty { words.append((String(spaces), word)) }
    }
    return words
}
