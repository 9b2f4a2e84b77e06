import BotOpsKit
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Remote
import SandboxSupport
import Testing

/// The sandbox host as the status and recover tests use it: the shared sandbox lock held, one
/// connection, a botops.yml with a state directory of the test's own (so the host's real lock,
/// audit and backups are never touched), and the host put back also when the test fails.
struct HostScene {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    let sandbox: Sandbox
    let host: SSHConnection
    /// botops.yml for this test.
    let config: String
    /// The test's state directory on the host, `~/…`.
    let stateDirectory: String

    /// Holds the sandbox lock (SandboxSupport's, the one every sandbox test takes) around `body`.
    static func withLock<T>(_ body: () async throws -> T) async throws -> T {
        let lock = try await SandboxLock.acquire()
        defer { lock.release() }
        return try await body()
    }

    /// Runs `body` under the lock; `cleanup` runs after it whether it failed or not, then the
    /// test's state directory goes.
    static func run(_ body: (HostScene) async throws -> Void, cleanup: (HostScene) async throws -> Void = { _ in }) async throws {
        try await withLock {
            let sandbox = try Sandbox.require()
            let host = try await SSHConnection.connect(to: try sandbox.target())
            try await host.closing {
                let state = "~/.botops-test-\(UUID().uuidString.prefix(8).lowercased())"
                let directory = try temporaryDirectory()
                let base = try String(contentsOfFile: sandbox.configFile, encoding: .utf8)
                let config = directory.appendingPathComponent("botops.yml").path
                try (base + "state_dir: \(state)\n").write(toFile: config, atomically: true, encoding: .utf8)
                let scene = HostScene(sandbox: sandbox, host: host, config: config, stateDirectory: state)
                do {
                    try await body(scene)
                } catch {
                    try? await cleanup(scene)
                    _ = try? await scene.sh("rm -rf \"$HOME\"/\(shellQuote(String(state.dropFirst(2))))")
                    throw error
                }
                try await cleanup(scene)
                try await scene.sh("rm -rf \"$HOME\"/\(shellQuote(String(state.dropFirst(2))))")
            }
        }
    }

    /// Adds `text` to this test's botops.yml.
    func appendToConfig(_ text: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: config))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
    }

    /// Replaces `old` (which must be there) with `new` in this test's botops.yml.
    func replaceInConfig(_ old: String, with new: String) throws {
        let text = try String(contentsOfFile: config, encoding: .utf8)
        guard text.contains(old) else { throw SceneFailure("botops.yml has no \(old)") }
        try text.replacingOccurrences(of: old, with: new).write(toFile: config, atomically: true, encoding: .utf8)
    }

    /// Runs `script` on the host as the ssh user; it must succeed.
    @discardableResult
    func sh(_ script: String) async throws -> String {
        let result = try await host.run(script, timeout: .seconds(120))
        guard result.succeeded else {
            throw SceneFailure("`\(script.prefix(200))` ended with \(result.termination): \(result.stderrText.prefix(500))")
        }
        return result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A file in the test's state directory on the host, as a shell word.
    func stateFile(_ name: String) -> String {
        "\"$HOME\"/" + shellQuote(String(stateDirectory.dropFirst(2)) + "/" + name)
    }

    func botops(_ arguments: [String]) async throws -> CommandResult {
        try await BuiltBinary.botops.run(arguments + ["--config", config])
    }

    /// `botops ARGUMENTS --format json` as one object.
    func json(_ arguments: [String]) async throws -> [String: Any] {
        let result = try await botops(arguments + ["--format", "json"])
        guard result.termination == .exited(0) else { throw SceneFailure("botops \(arguments) ended \(result.termination): \(result.stderrText)") }
        guard let object = try JSONSerialization.jsonObject(with: Data(result.stdoutText.utf8)) as? [String: Any] else {
            throw SceneFailure("not a JSON object: \(result.stdoutText)")
        }
        return object
    }
}

struct SceneFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
