import Analysis

/// The colours of the charts: one per suspect kind and region label, and the shading of
/// leaked bytes, so a colour means the same thing in every chart.
enum ChartPalette {
    static let leakedPattern = "leaked-hatch"

    static func fill(of kind: Suspect.Kind?) -> String {
        switch kind {
        case .type: return "#4e79a7"
        case .container: return "#edc948"
        case .magic: return "#f28e2b"
        case .size: return "#76b7b2"
        case nil: return "#bab0ac"
        }
    }

    static func fill(ofRegionLabel label: String) -> String {
        switch label {
        case "heap": return "#e15759"
        case "stack": return "#59a14f"
        case "file": return "#4e79a7"
        case "vdso", "vsyscall": return "#b07aa1"
        default: return "#bab0ac"
        }
    }

    /// The hatch that marks leaked bytes, referenced as `url(#leaked-hatch)`: a pattern inside
    /// the same SVG, so nothing is fetched.
    static var leakedDefinition: BodyNode {
        element("defs", [:], [
            element("pattern", ["id": leakedPattern, "width": "6", "height": "6", "patternUnits": "userSpaceOnUse",
                                "patternTransform": "rotate(45)"], [
                element("rect", ["width": "6", "height": "6", "fill": "#8b1a1a", "fill-opacity": "0.55"]),
                element("line", ["x1": "0", "y1": "0", "x2": "0", "y2": "6", "stroke": "#ffffff", "stroke-width": "2",
                                 "stroke-opacity": "0.6"]),
            ]),
        ])
    }
}
