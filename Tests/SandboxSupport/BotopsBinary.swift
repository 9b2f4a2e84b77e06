import Foundation
import Remote

/// Runs the built `botops` executable as a user would, through a real shell.
public enum BotopsBinary {
    /// SwiftPM puts executables next to the test bundle.
    public static let path: String = {
        if let explicit = ProcessInfo.processInfo.environment["BOTOPS_BIN"] { return explicit }
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = testBinary.deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("botops").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return "botops"
    }()

    public static func run(_ arguments: [String], prefix: [String] = []) async throws -> CommandResult {
        try await LocalHost().run(shellCommand(prefix + [path] + arguments), timeout: .seconds(120))
    }
}
