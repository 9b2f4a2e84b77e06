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

    /// Runs a local program (no shell) and returns its status, stdout and stderr.
    @discardableResult
    static func run(_ arguments: [String], input: [UInt8]? = nil) throws -> (status: Int32, stdout: [UInt8], stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        let stdin = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input)) }
        try stdin.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, Array(data), String(decoding: errorData, as: UTF8.self))
    }

    /// bot's crontab bytes; nil when bot has none.
    static func read() throws -> [UInt8]? {
        let result = try run(["crontab", "-u", user, "-l"])
        if result.status == 0 { return result.stdout }
        guard result.stderr.contains("no crontab for") else { throw SandboxFailure(description: "crontab -u bot -l: \(result.stderr)") }
        return nil
    }

    /// Installs exactly `bytes` as bot's crontab (nil: none at all).
    static func write(_ bytes: [UInt8]?) throws {
        guard let bytes else {
            try run(["crontab", "-u", user, "-r"])
            return
        }
        let result = try run(["crontab", "-u", user, "-"], input: bytes)
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

/// `flock(2)` on /tmp/botops-sandbox.lock, the lock `flock /tmp/botops-sandbox.lock CMD` takes.
/// When this test process already runs under that command (an ancestor holds the lock), taking it
/// again would wait forever: then the ancestor's hold is the test's.
final class SandboxLock: Sendable {
    static let path = "/tmp/botops-sandbox.lock"
    let descriptor: Int32?

    private init(descriptor: Int32?) {
        self.descriptor = descriptor
    }

    /// Serializes this process's own holders when the ancestor's hold lets them all through.
    private static let inProcess = DispatchSemaphore(value: 1)

    static func acquire() async throws -> SandboxLock {
        let descriptor = open(path, O_CREAT | O_RDWR, 0o666)
        guard descriptor >= 0 else { throw SandboxFailure(description: "cannot open \(path)") }
        if heldByAncestor(descriptor) {
            close(descriptor)
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                Thread.detachNewThread {
                    inProcess.wait()
                    continuation.resume()
                }
            }
            return SandboxLock(descriptor: nil)
        }
        // flock blocks while another helper's test holds the lock: wait on a thread of our own.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                _ = flock(descriptor, LOCK_EX)
                continuation.resume()
            }
        }
        return SandboxLock(descriptor: descriptor)
    }

    func release() {
        guard let descriptor else {
            SandboxLock.inProcess.signal()
            return
        }
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    /// True when /proc/locks says a process among this one's ancestors holds the file's flock.
    private static func heldByAncestor(_ descriptor: Int32) -> Bool {
        var info = stat()
        guard fstat(descriptor, &info) == 0, let locks = try? String(contentsOfFile: "/proc/locks", encoding: .utf8) else { return false }
        let holders = locks.split(separator: "\n").compactMap { line -> Int32? in
            let fields = line.split(separator: " ")
            // "1: FLOCK  ADVISORY  WRITE 1234 fe:00:5326103 0 EOF"; waiters carry "->" and are not holders.
            guard fields.count >= 6, fields[1] == "FLOCK", let inode = fields[5].split(separator: ":").last,
                  UInt64(inode) == UInt64(info.st_ino) else { return nil }
            return Int32(fields[4])
        }
        var pid = getppid()
        while pid > 1 {
            if holders.contains(pid) { return true }
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                  let line = status.split(separator: "\n").first(where: { $0.hasPrefix("PPid:") }),
                  let parent = Int32(line.dropFirst(5).trimmingCharacters(in: .whitespaces))
            else { return false }
            pid = parent
        }
        return false
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
