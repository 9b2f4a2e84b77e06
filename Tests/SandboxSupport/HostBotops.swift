import Foundation
import Remote

extension Sandbox {
    /// Runs `body` with the ssh user's `~/botops` (where install-host puts botops) moved aside,
    /// and puts it back afterwards, whatever `body` did. The caller holds the sandbox lock.
    public func withoutHostBotops(_ body: (SSHConnection) async throws -> Void) async throws {
        let connection = try await SSHConnection.connect(to: try target())
        try await connection.closing {
            let saved = "botops.saved-by-test-\(UUID().uuidString)"
            let aside = try await connection.run("cd && if [ -e botops ]; then mv botops \(saved); fi")
            guard aside.succeeded else { throw SandboxSceneError(description: "moving ~/botops aside: \(aside.stderrText)") }
            var failure: Error?
            do { try await body(connection) } catch { failure = error }
            let back = try await connection.run("cd && rm -rf botops && if [ -e \(saved) ]; then mv \(saved) botops; fi")
            if let failure { throw failure }
            guard back.succeeded else { throw SandboxSceneError(description: "putting ~/botops back: \(back.stderrText)") }
        }
    }

    /// A new directory on the sandbox host (this machine) owned by its ssh user, for a
    /// `backup.dir`; the caller removes it.
    public func userOwnedDirectory(prefix: String) async throws -> String {
        let user = value("SANDBOX_USER")
        let made = try await LocalHost().run("d=$(mktemp -d \(shellQuote("/tmp/\(prefix).XXXXXX"))) && chown \(shellQuote(user + ":" + user)) \"$d\" && echo \"$d\"")
        guard made.succeeded else { throw SandboxSceneError(description: "mktemp for \(prefix): \(made.stderrText)") }
        return made.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

public struct SandboxSceneError: Error, CustomStringConvertible {
    public var description: String
}
