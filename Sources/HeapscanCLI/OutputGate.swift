/// Every text line heapscan writes to stdout passes here (it shadows `Swift.print` for one
/// string, which is how every command prints): if the core shrank while it was read, the
/// results came partly from zeros and are never shown; the run ends with the one-line error.
func print(_ text: String) {
    HeapscanMain.stopIfInputChanged()
    Swift.print(text)
}

/// A command's text output, every line kept within `width` (tables are fitted when rendered;
/// the lines around them are wrapped here).
func printText(_ text: String, width: Int?) {
    print(wrapped(text, width: width))
}
