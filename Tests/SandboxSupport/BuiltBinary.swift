import Foundation
import Remote

/// Runs the binary in / (env -C), where no ./botops.yml is picked up, so --host alone decides.
public let inEmptyDirectory = ["env", "-C", "/"]

/// Runs a built executable of this package (botops, bot-engine) as a user would, through a real shell.
public struct BuiltBinary: Sendable {
    public static let botops = BuiltBinary(name: "botops")
    public static let botEngine = BuiltBinary(name: "bot-engine")

    /// The package the executables are built from (its crontab.d, playbooks, `swift build`).
    public static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    public let name: String

    /// SwiftPM puts executables next to the test bundle.
    public var path: String {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = testBinary.deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return name
    }

    public func run(_ arguments: [String], prefix: [String] = [], environment: [String: String] = [:]) async throws -> CommandResult {
        let assignments = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let env = assignments.isEmpty ? [] : ["env"] + assignments
        return try await LocalHost().run(shellCommand(prefix + env + [path] + arguments), timeout: .seconds(120))
    }
}
