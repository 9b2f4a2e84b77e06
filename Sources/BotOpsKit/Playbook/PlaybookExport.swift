import Foundation

/// Writes the built-in playbooks into a directory, never replacing an edited file by accident.
public struct PlaybookExport: Sendable {
    public var directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// Writes every built-in playbook (each atomically) and returns the paths written. Refuses
    /// before writing anything when one exists already, unless `overwrite`.
    public func write(overwrite: Bool) throws -> [String] {
        let base = URL(fileURLWithPath: directory)
        let files = Playbook.Kind.allCases.map { (path: base.appendingPathComponent($0.fileName).path, text: $0.builtInText) }
        let existing = files.map(\.path).filter { FileManager.default.fileExists(atPath: $0) }
        if !overwrite && !existing.isEmpty { throw PlaybookExportError.exists(existing) }
        do {
            try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
            for file in files { try file.text.write(toFile: file.path, atomically: true, encoding: .utf8) }
        } catch {
            throw PlaybookExportError.cannotWrite(directory: directory, detail: "\(error.localizedDescription)")
        }
        return files.map(\.path)
    }
}

public enum PlaybookExportError: Error, Equatable, CustomStringConvertible, ExitCodeProviding {
    case exists([String])
    case cannotWrite(directory: String, detail: String)

    public var description: String {
        switch self {
        case .exists(let paths):
            return "\(paths.joined(separator: " and ")) already exist\(paths.count == 1 ? "s" : ""); nothing was written. Add --force to replace them with the built-in playbooks."
        case .cannotWrite(let directory, let detail):
            return "cannot write the playbooks into \(directory): \(detail). Choose a directory you can write to."
        }
    }

    public var exitCode: BotOpsExitCode {
        switch self {
        case .exists: return .refused
        case .cannotWrite: return .usage
        }
    }
}
