import Foundation

/// A golden file: what botops writes now must equal it byte for byte. `BOTOPS_RECORD_GOLDEN=1`
/// writes one that is missing, and that run still fails: a recording run is never a pass, so a
/// golden file lost from the tree (or a CI that sets the variable) cannot turn a test green.
public enum GoldenFile {
    /// nil when `written` equals `file`; otherwise what is wrong and what to do.
    public static func mismatch(_ file: URL, _ written: String,
                                environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String? {
        guard FileManager.default.fileExists(atPath: file.path) else {
            guard environment["BOTOPS_RECORD_GOLDEN"] == "1" else {
                return "the golden file \(file.path) is missing: run the test with BOTOPS_RECORD_GOLDEN=1 to record it, then review and commit it"
            }
            try written.write(to: file, atomically: true, encoding: .utf8)
            return "recorded the missing golden file \(file.path): review it, commit it, and run the test again"
        }
        let expected = try String(contentsOf: file, encoding: .utf8)
        return written == expected ? nil : "\(file.lastPathComponent) differs; as botops writes it now:\n\(written)"
    }
}
