import Regions

/// glibc's version as libc.so.6 states it in its read-only data ("… release version 2.36."),
/// when the core holds those pages (gcore does; kernel cores usually do not).
enum GlibcVersion {
    static func find(in regions: RegionMap) -> String? {
        let marker = Array("release version ".utf8)
        for region in regions.regions where region.label == .file && !region.isWritable && !region.bytes.isEmpty {
            guard let path = region.path, path.split(separator: "/").last?.hasPrefix("libc.so") == true else { continue }
            let bytes = region.bytes
            guard bytes.count > marker.count else { continue }
            var index = 0
            let last = bytes.count - marker.count
            while index <= last {
                if bytes[index] == marker[0] && bytes[index + 1] == marker[1] {
                    var matched = true
                    for offset in 2..<marker.count where bytes[index + offset] != marker[offset] {
                        matched = false
                        break
                    }
                    if matched {
                        var end = index + marker.count
                        while end < bytes.count, bytes[end] == UInt8(ascii: ".") || (bytes[end] >= 0x30 && bytes[end] <= 0x39) { end += 1 }
                        var version = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(index + marker.count)..<end]), as: UTF8.self)
                        while version.hasSuffix(".") { version.removeLast() }
                        if version.contains(".") { return version }
                    }
                }
                index += 1
            }
        }
        return nil
    }
}
