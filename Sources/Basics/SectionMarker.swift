import Foundation

/// Marks sections in the output of a script that gathers several facts in one round trip. Unique
/// per use, so no file name or query output can be mistaken for a marker.
public struct SectionMarker: Sendable {
    public let text: String

    public init() {
        text = "@@botops-" + UUID().uuidString.prefix(8).lowercased()
    }

    /// The line that starts section `name`.
    public func start(_ name: String) -> ShellScript {
        "echo \(text + " " + name)"
    }

    /// The output's lines, grouped by the section they follow.
    public func split(_ output: String) -> [String: [String]] {
        var result: [String: [String]] = [:]
        var current: String?
        for line in output.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix(text + " ") {
                let name = String(line.dropFirst(text.count + 1))
                current = name
                result[name] = result[name] ?? []
            } else if let current {
                result[current, default: []].append(String(line))
            }
        }
        return result
    }
}
