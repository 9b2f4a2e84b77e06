import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs commands on this machine through `/bin/sh -c`, with the same interface as `SSHConnection`,
/// for botops running on the host itself (`--local`). Each command gets its own thread for the
/// blocking pipe reads, so the cooperative pool never waits on a child process.
public struct LocalHost: HostConnection {
    public init() {}

    public func close() async {}

    public var destination: String { "local" }

    /// Cancelling the task stops the command: SIGTERM to its process group (the command and
    /// everything it started), SIGKILL to what is left after `cancelGrace`.
    public func stream(_ command: String, timeout: Duration?, input: CommandInput, onOutput: @escaping OutputHandler) async throws -> Termination {
        let child = SpawnedGroup()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let thread = Thread {
                    continuation.resume(with: Result { try Self.runBlocking(command, timeout: timeout, input: input, child: child, onOutput: onOutput) })
                }
                thread.start()
            }
        } onCancel: {
            child.cancel()
        }
    }

    /// How long a cancelled command has between SIGTERM and SIGKILL.
    static let cancelGrace: Duration = .seconds(3)

    private static func runBlocking(_ command: String, timeout: Duration?, input: CommandInput, child: SpawnedGroup, onOutput: OutputHandler) throws -> Termination {
        var stdoutPipe: [Int32] = [0, 0]
        var stderrPipe: [Int32] = [0, 0]
        guard closeOnExecPipe(&stdoutPipe) == 0, closeOnExecPipe(&stderrPipe) == 0 else {
            throw RemoteError.localSpawnFailed(command: command, detail: errnoText())
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // The child reads the input descriptor itself: nothing passes through botops.
        switch input {
        case .none: posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        case .fileDescriptor(let fd): posix_spawn_file_actions_adddup2(&actions, fd, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)

        // Its own process group, so a timeout can stop the command and everything it started; and
        // default signal handling, whatever this process blocks or ignores.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(Int32(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) | spawnClosesOtherDescriptors))
        posix_spawnattr_setpgroup(&attributes, 0)
        var signals = sigset_t()
        sigemptyset(&signals)
        posix_spawnattr_setsigmask(&attributes, &signals)
        sigfillset(&signals)
        posix_spawnattr_setsigdefault(&attributes, &signals)

        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup(command), nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, processEnvironment)
        closeDescriptor(stdoutPipe[1])
        closeDescriptor(stderrPipe[1])
        defer {
            closeDescriptor(stdoutPipe[0])
            closeDescriptor(stderrPipe[0])
        }
        guard spawned == 0 else {
            throw RemoteError.localSpawnFailed(command: command, detail: String(cString: strerror(spawned)))
        }
        child.started(pid)

        let clock = ContinuousClock()
        let deadline = CommandDeadline(timeout: timeout, start: clock.now)
        var open: [(fd: Int32, stream: OutputKind)] = [(stdoutPipe[0], .stdout), (stderrPipe[0], .stderr)]
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while !open.isEmpty {
            let now = clock.now
            if deadline.isExpired(at: now) {
                killpg(pid, SIGKILL)
                child.ended()
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                throw RemoteError.commandTimedOut(command: command, seconds: timeout.map(totalSeconds) ?? 0)
            }
            if let cancelled = child.cancelledAt, cancelled.duration(to: now) > cancelGrace {
                killpg(pid, SIGKILL)
            }
            // A cancellation is noticed within 100 ms.
            let waitMilliseconds = min(pollMilliseconds(deadline.timeLeft(at: now)).clampedWait, 100)
            var fds = open.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            if poll(&fds, nfds_t(fds.count), waitMilliseconds) < 0 && errno != EINTR {
                throw RemoteError.localSpawnFailed(command: command, detail: errnoText())
            }
            for (index, entry) in open.enumerated().reversed() where fds[index].revents != 0 {
                let count = read(entry.fd, &buffer, buffer.count)
                if count > 0 {
                    onOutput(entry.stream, Array(buffer[0..<count]))
                } else if count == 0 || errno != EINTR {
                    open.remove(at: index)
                }
            }
        }

        // No signal to the group from here on: once reaped, its id may be given to another.
        child.ended()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(SignalNames.name(for: signal))
    }
}

/// The process group of one local command, for a cancellation that comes from another thread.
/// The group is signalled only while its leader has not been reaped, so its id is still ours.
private final class SpawnedGroup: @unchecked Sendable {
    private let mutex = NSLock()
    private var pid: pid_t?
    private var cancelled: ContinuousClock.Instant?
    private var reaped = false

    var cancelledAt: ContinuousClock.Instant? { mutex.withLock { cancelled } }

    func started(_ pid: pid_t) {
        let stopNow = mutex.withLock {
            self.pid = pid
            return cancelled != nil
        }
        if stopNow { killpg(pid, SIGTERM) }
    }

    func cancel() {
        mutex.withLock {
            guard cancelled == nil else { return }
            cancelled = ContinuousClock.now
            if let pid, !reaped { killpg(pid, SIGTERM) }
        }
    }

    /// Called just before the leader is reaped (until then its id cannot be reused).
    func ended() {
        mutex.withLock { reaped = true }
    }
}

private extension Int32 {
    /// poll's "no limit" (-1) as a wait the cancellation check can cap.
    var clampedWait: Int32 { self < 0 ? .max : self }
}
