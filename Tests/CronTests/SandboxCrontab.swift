@testable import BotOpsKit
import Cron
import Foundation
import Remote
import SandboxSupport

/// Access to the sandbox user's real crontab from this (root) process, for setting up scenes and
/// putting the crontab back exactly; and the shared lock every test that changes it holds.
struct SandboxFailure: Error, CustomStringConvertible {
    let description: String
}

enum SandboxCrontab {
    static let user = "bot"

    /// bot's crontab bytes; nil when bot has none.
    static func read() throws -> [UInt8]? {
        let result = try runProgram(["crontab", "-u", user, "-l"])
        if result.status == 0 { return result.stdout }
        guard result.stderr.contains("no crontab for") else { throw SandboxFailure(description: "crontab -u bot -l: \(result.stderr)") }
        return nil
    }

    /// Installs exactly `bytes` as bot's crontab (nil: none at all).
    static func write(_ bytes: [UInt8]?) throws {
        guard let bytes else {
            try runProgram(["crontab", "-u", user, "-r"])
            return
        }
        let result = try runProgram(["crontab", "-u", user, "-"], input: bytes)
        guard result.status == 0 else { throw CronHostError.installRefused(stderr: result.stderr) }
    }

    /// Modification time of bot's spool file: changes whenever crontab installs anything.
    static func spoolModified() throws -> Date? {
        try FileManager.default.attributesOfItem(atPath: "/var/spool/cron/crontabs/\(user)")[.modificationDate] as? Date
    }

    /// Holds the sandbox lock (the one `flock /tmp/botops-sandbox.lock` takes), saves bot's
    /// crontab, runs `body`, and puts the crontab back byte for byte, also when `body` throws.
    static func scene<T>(_ body: () async throws -> T) async throws -> T {
        let lock = try await SandboxLock.acquire()
        defer { lock.release() }
        let saved = try read()
        do {
            let value = try await body()
            try write(saved)
            return value
        } catch {
            try write(saved)
            throw error
        }
    }
}

/// Crontab changes in tests: the sandbox lock is already held by the scene.
struct SceneLock: CrontabChangeLock {
    func withLock<T: Sendable>(purpose: String, _ body: @Sendable () async throws -> T) async throws -> T {
        try await body()
    }
}

/// Runs every command with a directory first on PATH: how a test puts a failing `crontab` in
/// front of the real one on the real host.
struct PathPrefixedRunner: CommandRunner {
    let base: any CommandRunner
    let directory: String

    var destination: String { base.destination }

    func stream(_ command: String, timeout: Duration?, input: CommandInput, onOutput: @escaping OutputHandler) async throws -> Termination {
        try await base.stream("PATH=\(shellQuote(directory)):\"$PATH\"; export PATH; \(command)", timeout: timeout, input: input, onOutput: onOutput)
    }
}
