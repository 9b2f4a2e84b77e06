import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `flock(2)` on /tmp/botops-sandbox.lock, the lock `flock /tmp/botops-sandbox.lock CMD` and
/// scripts/demo take: the sandbox's users change the shared host in turns.
///
/// A waiter never waits silently: after `reportAfter` it prints every process that has the lock
/// file open (pid and command line) to stderr, and after `BOTOPS_SANDBOX_LOCK_WAIT` seconds
/// (default 30 minutes) it gives up with an error naming them, so a leaked holder fails the run
/// instead of hanging it. When this process already runs under `flock FILE swift test` (an
/// ancestor holds the lock), taking it again would wait forever: then the ancestor's hold is the test's.
public final class SandboxLock: Sendable {
    public static let path = "/tmp/botops-sandbox.lock"
    public static let defaultWait: Duration = .seconds(30 * 60)
    let descriptor: Int32?

    private init(descriptor: Int32?) {
        self.descriptor = descriptor
    }

    /// Serializes this process's own holders when the ancestor's hold lets them all through.
    private static let inProcess = DispatchSemaphore(value: 1)

    /// Takes the sandbox lock, waiting at most `BOTOPS_SANDBOX_LOCK_WAIT` seconds.
    public static func acquire() async throws -> SandboxLock {
        try await acquire(path: path, wait: try waitFromEnvironment(ProcessInfo.processInfo.environment))
    }

    /// The wait `BOTOPS_SANDBOX_LOCK_WAIT` (seconds) asks for, or the default.
    public static func waitFromEnvironment(_ environment: [String: String]) throws -> Duration {
        guard let text = environment["BOTOPS_SANDBOX_LOCK_WAIT"], !text.isEmpty else { return defaultWait }
        guard let seconds = Double(text), seconds >= 0, seconds.isFinite else {
            throw SandboxLockError(description: "BOTOPS_SANDBOX_LOCK_WAIT is '\(text)': give the longest wait for the sandbox lock in seconds")
        }
        return .milliseconds(Int64(seconds * 1000))
    }

    public static func acquire(path: String, wait: Duration, reportAfter: Duration = .seconds(10),
                               report: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) })
        async throws -> SandboxLock {
        let descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else { throw SandboxLockError(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
        if heldByAncestor(descriptor) {
            close(descriptor)
            // A semaphore wait blocks its thread: wait on one of our own, never on the cooperative pool.
            await onOwnThread { inProcess.wait() }
            return SandboxLock(descriptor: nil)
        }
        let outcome: Result<Void, SandboxLockError> = await onOwnThread {
            waitForLock(descriptor, path: path, wait: wait, reportAfter: reportAfter, report: report)
        }
        if case .failure(let error) = outcome {
            close(descriptor)
            throw error
        }
        return SandboxLock(descriptor: descriptor)
    }

    public func release() {
        guard let descriptor else {
            SandboxLock.inProcess.signal()
            return
        }
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    /// Polls (non-blocking flock, 50 ms apart) so the wait can be bounded and reported.
    private static func waitForLock(_ descriptor: Int32, path: String, wait: Duration, reportAfter: Duration,
                                    report: (String) -> Void) -> Result<Void, SandboxLockError> {
        let clock = ContinuousClock()
        let start = clock.now
        var reported = false
        while true {
            if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return .success(()) }
            guard errno == EWOULDBLOCK || errno == EINTR else {
                return .failure(SandboxLockError(description: "cannot lock \(path): \(String(cString: strerror(errno)))"))
            }
            let waited = clock.now - start
            if !reported && waited >= reportAfter {
                reported = true
                report("waiting for the sandbox lock \(path), held by: \(holderList(path))")
            }
            if waited >= wait {
                return .failure(SandboxLockError(description: """
                    gave up after \(Int(wait.components.seconds)) s waiting for the sandbox lock \(path) \
                    (BOTOPS_SANDBOX_LOCK_WAIT); held by: \(holderList(path)). A process that should not \
                    hold it (a daemon started while it was held) must be stopped by its pid.
                    """))
            }
            usleep(50_000)
        }
    }

    private static func holderList(_ path: String) -> String {
        let holders = Self.holders(of: path)
        return holders.isEmpty ? "no process has it open any more" : holders.map { "pid \($0.pid) (\($0.command))" }.joined(separator: ", ")
    }

    /// Every other process that has `path` open, found through /proc/PID/fd: the flock belongs to
    /// the open file, so each of them may be what keeps it held.
    public static func holders(of path: String) -> [(pid: Int32, command: String)] {
        var target = stat()
        guard stat(path, &target) == 0, let pids = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        let me = getpid()
        return pids.compactMap(Int32.init).filter { $0 != me }.sorted().compactMap { pid in
            guard let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd") else { return nil }
            let hasIt = fds.contains { fd in
                var info = stat()
                return stat("/proc/\(pid)/fd/\(fd)", &info) == 0 && info.st_dev == target.st_dev && info.st_ino == target.st_ino
            }
            guard hasIt else { return nil }
            let raw = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))) ?? Data()
            let command = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
            return (pid, command)
        }
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

public struct SandboxLockError: Error, CustomStringConvertible {
    public var description: String
}

/// Runs blocking `work` on a thread of its own, so that the cooperative pool (two threads on a
/// 2-CPU machine) keeps running every other test meanwhile.
public func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: work()) }
    }
}
