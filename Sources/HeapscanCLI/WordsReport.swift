import ELFCore
import ScanKernels

/// `heapscan words --format json`, field for field.
struct WordsReport: Codable {
    struct Row: Codable {
        var rank: Int
        var value: String
        var count: UInt64
        var share: Double
        var kind: String
        var description: String
        var region: String?
        /// Where in `region` a pointer value points.
        var offset: UInt64?
        var text: String?
    }

    var core: String
    var width: Int
    var scannedBytes: UInt64
    var scannedWords: UInt64
    var skippedWords: UInt64
    var skip: [String]
    var provenExact: Bool
    var errorBound: UInt64
    var method: String
    var passes: Int
    var top: [Row]

    init(core: String, census: WordCensus, skip: WordSkip, classifier: WordClassifier) {
        self.core = core
        width = census.width
        scannedBytes = census.scannedBytes
        scannedWords = census.scannedWords
        skippedWords = census.skippedWords
        self.skip = skip.names
        provenExact = census.provenExact
        errorBound = census.errorBound
        method = census.method.rawValue
        passes = census.passes
        top = census.top.enumerated().map { index, entry in
            let kind = classifier.classify(entry.value, width: census.width)
            var row = Row(rank: index + 1, value: hex(entry.value), count: entry.count,
                          share: census.scannedWords > 0 ? Double(entry.count) / Double(census.scannedWords) : 0,
                          kind: kind.kind, description: kind.description)
            switch kind {
            case .pointer(let target):
                row.region = target.name
                row.offset = target.offset
            case .text(let text):
                row.text = text
            default:
                break
            }
            return row
        }
    }
}
