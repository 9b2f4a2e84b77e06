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

    /// Runs `body` holding the sandbox lock, released however it ends.
    public static func holding<T>(_ body: () async throws -> T) async throws -> T {
        try await holding(path: path, wait: try waitFromEnvironment(ProcessInfo.processInfo.environment), body)
    }

    public static func holding<T>(path: String, wait: Duration, _ body: () async throws -> T) async throws -> T {
        let lock = try await acquire(path: path, wait: wait)
        defer { lock.release() }
        return try await $heldByThisTask.withValue(heldByThisTask.union([path])) { try await body() }
    }

    /// The lock files this task (and the tasks it starts) holds through `holding` or a suite's
    /// `.holdingTheSandboxLock`: taking one again would wait for itself (a second flock(2) of this
    /// process, or the in-process semaphore), so it is refused at once.
    @TaskLocal static var heldByThisTask: Set<String> = []

    /// The wait `BOTOPS_SANDBOX_LOCK_WAIT` (seconds) asks for, or the default.
    public static func waitFromEnvironment(_ environment: [String: String]) throws -> Duration {
        guard let text = environment["BOTOPS_SANDBOX_LOCK_WAIT"], !text.isEmpty else { return defaultWait }
        guard let seconds = Double(text), seconds >= 0, seconds.isFinite else {
            throw SandboxLockError(description: "BOTOPS_SANDBOX_LOCK_WAIT is '\(text)': give the longest wait for the sandbox lock in seconds")
        }
        return .milliseconds(Int64(seconds * 1000))
    }

    public static func acquire(path: String, wait limit: Duration, reportAfter: Duration = .seconds(10),
                               report: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) })
        async throws -> SandboxLock {
        guard !heldByThisTask.contains(path) else {
            throw SandboxLockError(description: """
                the sandbox lock \(path): this test holds it already (its suite is marked .holdingTheSandboxLock, or it \
                runs inside SandboxLock.holding), and taking it again would wait for itself: drop the inner take
                """)
        }
        let descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else { throw SandboxLockError(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
        if heldByAncestor(descriptor) {
            close(descriptor)
            // A semaphore wait blocks its thread: wait on one of our own, never on the cooperative pool.
            await onOwnThread { inProcess.wait() }
            return try await putBackLeftovers(SandboxLock(descriptor: nil), path: path)
        }
        let wait = LockWait(descriptor: descriptor)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            wait.continuation = continuation
            // A blocking flock keeps this waiter in the kernel's queue, in turn with the others
            // (polling with LOCK_NB would let every blocking waiter pass first).
            Thread.detachNewThread { wait.block(path: path) }
            Thread.detachNewThread { wait.watch(path: path, wait: limit, reportAfter: reportAfter, report: report) }
        }
        return try await putBackLeftovers(SandboxLock(descriptor: descriptor), path: path)
    }

    private static func putBackLeftovers(_ lock: SandboxLock, path: String) async throws -> SandboxLock {
        do { try await putBackLeftovers(path: path) } catch {
            lock.release()
            throw error
        }
        return lock
    }

    /// What a take of the sandbox lock (`path`) does first: a stack variant a killed test run left
    /// is put back (StackVariant), so its holder finds the sandbox as every test leaves it.
    public static func putBackLeftovers(path: String) async throws {
        guard path == Self.path else { return }
        try await StackVariant.putBackLeftover()
    }

    public func release() {
        guard let descriptor else {
            SandboxLock.inProcess.signal()
            return
        }
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    static func holderList(_ path: String) -> String {
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

    /// True when this process, or one among its ancestors (`flock FILE swift test`), holds the
    /// flock of `path`; not when another process does.
    public static func isHeldHere(_ path: String = path) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        return held(inode: UInt64(info.st_ino), from: getpid())
    }

    /// True when /proc/locks says a process among this one's ancestors holds the file's flock.
    private static func heldByAncestor(_ descriptor: Int32) -> Bool {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return false }
        return held(inode: UInt64(info.st_ino), from: getppid())
    }

    /// True when `start` or one of its ancestors holds the flock of the file `inode`.
    private static func held(inode: UInt64, from start: Int32) -> Bool {
        guard let locks = try? String(contentsOfFile: "/proc/locks", encoding: .utf8) else { return false }
        let holders = locks.split(separator: "\n").compactMap { line -> Int32? in
            let fields = line.split(separator: " ")
            // "1: FLOCK  ADVISORY  WRITE 1234 fe:00:5326103 0 EOF"; waiters carry "->" and are not holders.
            guard fields.count >= 6, fields[1] == "FLOCK", let field = fields[5].split(separator: ":").last,
                  UInt64(field) == inode else { return nil }
            return Int32(fields[4])
        }
        var pid = start
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

/// One wait for the lock: a thread blocked in flock(2), and a watch that reports the holders and
/// gives up; whichever ends first answers the caller, and a lock obtained after giving up is let go.
private final class LockWait: @unchecked Sendable {
    let descriptor: Int32
    var continuation: CheckedContinuation<Void, Error>?
    private let state = NSLock()
    private var answered = false

    init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// Answers the caller once; false when it was answered already.
    private func answer(_ result: Result<Void, Error>) -> Bool {
        let first = state.withLock { () -> Bool in
            defer { answered = true }
            return !answered
        }
        if first { continuation?.resume(with: result) }
        return first
    }

    private var isAnswered: Bool { state.withLock { answered } }

    func block(path: String) {
        var status = flock(descriptor, LOCK_EX)
        while status != 0 && errno == EINTR { status = flock(descriptor, LOCK_EX) }
        let result: Result<Void, Error> = status == 0
            ? .success(()) : .failure(SandboxLockError(description: "cannot lock \(path): \(String(cString: strerror(errno)))"))
        // Failed, or the caller gave up meanwhile: the lock is not theirs to keep.
        if !answer(result) || status != 0 { close(descriptor) }
    }

    func watch(path: String, wait: Duration, reportAfter: Duration, report: (String) -> Void) {
        let clock = ContinuousClock()
        let start = clock.now
        var reported = false
        while !isAnswered {
            let waited = clock.now - start
            if !reported && waited >= reportAfter {
                reported = true
                report("waiting for the sandbox lock \(path), held by: \(SandboxLock.holderList(path))")
            }
            if waited >= wait {
                let error = SandboxLockError(description: """
                    gave up after \(Int(wait.components.seconds)) s waiting for the sandbox lock \(path) \
                    (BOTOPS_SANDBOX_LOCK_WAIT); held by: \(SandboxLock.holderList(path)). A process that \
                    should not hold it (a daemon started while it was held) must be stopped by its pid.
                    """)
                // The blocked thread stays queued; it closes the descriptor when its turn comes.
                _ = answer(.failure(error))
                return
            }
            usleep(50_000)
        }
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
