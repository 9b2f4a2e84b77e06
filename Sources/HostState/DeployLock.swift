import Basics
import Foundation
import HostCommands
import Remote

/// The deploy lock on the host. A `flock(1)` held by a process of this botops run's own ssh
/// session: when botops dies, sshd closes the session, the holder's next heartbeat write fails,
/// and the kernel frees the lock. Nothing waits for a timeout. The holder's record stays behind,
/// so the next deploy can name the interrupted one and the step it reached.
public struct DeployLock: Sendable {
    public enum Status: Sendable, Equatable {
        /// Free; `interrupted` is the record of a holder that ended without releasing.
        case free(interrupted: LockHolder?)
        case held(LockHolder?, stale: Bool)
    }

    let state: StateDirectory
    let staleAfter: Duration
    let runner: any CommandRunner

    public init(state: StateDirectory, staleAfter: Duration, runner: any CommandRunner) {
        self.state = state
        self.staleAfter = staleAfter
        self.runner = runner
    }

    static let conflictStatus: Int32 = 75
    static let noFlockStatus: Int32 = 71
    static let unusableStateStatus: Int32 = 70
    /// A command of an earlier deploy still runs under the step lock.
    static let stepRunningStatus: Int32 = 76
    /// How long `release()` waits for the holder to end before abandoning its channel.
    static let releaseBound: Duration = .seconds(10)

    /// The command that takes the lock and keeps it until killed. `stepWait`: how long to wait
    /// for a command of an earlier deploy that still runs under the step lock (whole seconds).
    public func acquireCommand(_ holder: LockHolder, stepWait: Duration? = nil) -> RemoteCommand {
        // Runs under the lock: wait for the step lock (a changing command of a deploy whose botops
        // died may still run), report a leftover record, write ours, then heartbeat. The pid goes
        // first, each file by rename: `status` never sees our record without a live pid (it read
        // as "free, interrupted") nor the previous holder's record beside our pid. The heartbeat
        // is what notices a dead botops: its write fails once sshd has closed the session. `sleep`
        // does not inherit the output, so the channel closes as soon as the holder is killed.
        let waitSeconds = Int((stepWait ?? .zero).components.seconds)
        let locked: ShellScript = """
            if ! flock -n step.lock true; then
              printf 'step %s\\n' "$(head -c 300 step.cmd 2>/dev/null | tr '\\n' ' ')"
              flock -w "$2" step.lock true || exit \(Int(Self.stepRunningStatus))
            fi
            if [ -s holder.json ]; then printf 'previous %s\\n' "$(cat holder.json)"; rm -f holder.json; fi
            echo $$ > holder.pid.new && mv holder.pid.new holder.pid || exit 72
            printf '%s\\n' "$1" > holder.json.new && mv holder.json.new holder.json || exit 72
            echo "locked $$"
            while echo .; do sleep 1 </dev/null >/dev/null 2>&1; done
            """
        let script: ShellScript = """
            \(state.prepare) && cd \(state.script) && [ -w . ] || exit \(Int(Self.unusableStateStatus))
            command -v flock >/dev/null 2>&1 || exit \(Int(Self.noFlockStatus))
            exec flock -n -o -E \(Int(Self.conflictStatus)) lock sh -c \(locked.text) botops-lock \(holder.json) \(String(waitSeconds))
            """
        return RemoteCommand(script, timeout: .seconds(30), effect: .changes("takes the deploy lock in \(state.path)"))
    }

    func statusCommand() -> RemoteCommand {
        RemoteCommand("""
            cd \(state.script) 2>/dev/null || exit 0
            pid=$(cat holder.pid 2>/dev/null)
            if [ -n "$pid" ] && tr '\\0' ' ' < /proc/"$pid"/cmdline 2>/dev/null | grep -q botops-lock; then echo held; else echo free; fi
            if [ -s holder.json ]; then cat holder.json; echo "$(\(HostClock.script)) $(stat -c %Y holder.json)"; fi
            """, timeout: .seconds(20))
    }

    func releaseCommand(pid: Int) -> RemoteCommand {
        RemoteCommand("""
            cd \(state.script) && if [ "$(cat holder.pid 2>/dev/null)" = \(pid) ]; then rm -f holder.json holder.pid; kill \(pid); fi; true
            """, timeout: .seconds(20), effect: .changes("releases the deploy lock"))
    }

    func forceReleaseCommand() -> RemoteCommand {
        RemoteCommand("""
            cd \(state.script) 2>/dev/null || exit 0
            pid=$(cat holder.pid 2>/dev/null)
            if [ -n "$pid" ] && tr '\\0' ' ' < /proc/"$pid"/cmdline 2>/dev/null | grep -q botops-lock; then kill "$pid"; fi
            rm -f holder.json holder.pid
            """, timeout: .seconds(20), effect: .changes("breaks the deploy lock and removes its holder record"))
    }

    public func status() async throws -> Status {
        let result = try await runner.run(statusCommand())
        guard result.succeeded else {
            throw HostStateError.hostCommandFailed(step: "lock status", detail: result.shownOutput)
        }
        return parseStatus(result.stdout)
    }

    private func parseStatus(_ stdout: String) -> Status {
        let lines = stdout.split(separator: "\n").map(String.init)
        var holder = lines.count >= 2 ? LockHolder.parse(lines[1]) : nil
        holder?.idleSeconds = lines.count >= 3 ? Self.idleSeconds(lines[2]) : nil
        guard lines.first == "held" else { return .free(interrupted: holder) }
        let stale = holder?.idleSeconds.map { Duration.seconds($0) > staleAfter } ?? false
        return .held(holder, stale: stale)
    }

    /// The holder's idle time in `NOW MTIME` (the host's clock and the record's last write): both
    /// on the host's clock, so a local clock that differs never makes a live holder stale. A record
    /// written after NOW (the host's clock stepped back) has no idle time to tell: unknown, never
    /// negative (shown as "-300 s", and hiding how long a stale holder has really been idle).
    static func idleSeconds(_ line: String) -> Int? {
        let fields = line.split(separator: " ")
        guard fields.count == 2, let now = try? HostClock.parse(String(fields[0])), let written = Int(fields[1]),
              now >= written else { return nil }
        return now - written
    }

    /// Breaks the lock whoever holds it; returns the holder it removed.
    public func forceRelease() async throws -> LockHolder? {
        let before = try await status()
        let result = try await runner.run(forceReleaseCommand())
        guard result.succeeded else {
            throw HostStateError.hostCommandFailed(step: "lock release", detail: result.shownOutput)
        }
        switch before {
        case .free(let holder), .held(let holder, _): return holder
        }
    }

    /// Removes the record of a holder that is gone, in one round trip, so a deploy that takes the
    /// lock meanwhile is never touched: `.held` (nothing removed) when a live holder has it now.
    public func releaseIfGone() async throws -> Status {
        let result = try await runner.run(RemoteCommand("""
            cd \(state.script) 2>/dev/null || exit 0
            # Judged and removed under the lock itself: a holder writes its record under it, so a
            # deploy taking the lock between a look and the removal is never touched.
            exec 9>>lock
            if flock -n 9; then echo free; else echo held; fi
            if [ -s holder.json ]; then cat holder.json; echo "$(\(HostClock.script)) $(stat -c %Y holder.json)"; fi
            if flock -n 9; then rm -f holder.json holder.pid; fi
            """, timeout: .seconds(20), effect: .changes("removes the record of a deploy lock holder that is gone")))
        guard result.succeeded else {
            throw HostStateError.hostCommandFailed(step: "lock release", detail: result.shownOutput)
        }
        return parseStatus(result.stdout)
    }

    /// Takes the lock. While another deploy holds it, retries every `pollInterval` until
    /// `wait` has passed (nil: refuse at once), calling `onWaiting` once with the holder. A
    /// command of an earlier deploy still running under the step lock is waited for within the
    /// same bound; `onStep` names it.
    public func acquire<C: Clock<Duration>>(as holder: LockHolder, wait: Duration?, clock: C = ContinuousClock(),
                        pollInterval: Duration = .seconds(2), onWaiting: @Sendable (LockHolder?) -> Void = { _ in },
                        onStep: @escaping @Sendable (String) -> Void = { _ in }) async throws -> HeldLock {
        let deadline = wait.map { clock.now.advanced(by: $0) }
        var announced = false
        var freeButLocked = 0
        while true {
            let left = deadline.map { clock.now.duration(to: $0) }.map { max($0, .zero) }
            if let held = try await attempt(holder, stepWait: left, onStep: onStep) { return held }
            var status = try await status()
            if case .free = status {
                // flock says held, the record says free: a holder between its flock and its record,
                // or a foreign process holding the file. Once it persists, it counts as held.
                freeButLocked += 1
                if freeButLocked < 3 {
                    try await clock.sleep(for: .milliseconds(200))
                    continue
                }
                status = .held(nil, stale: false)
            }
            guard case .held(let other, let stale) = status else { continue }
            guard let deadline, clock.now < deadline else {
                throw HostStateError.lockHeld(other ?? LockHolder(user: "?", machine: "?", pid: 0, command: "unknown (flock holds \(state.path)/lock, no holder record)", step: "?", startedAt: 0), stale: stale)
            }
            if !announced { onWaiting(other) }
            announced = true
            try await clock.sleep(until: min(clock.now.advanced(by: pollInterval), deadline), tolerance: nil)
        }
    }

    /// One try: the held lock, or nil when another process holds it.
    private func attempt(_ holder: LockHolder, stepWait: Duration?, onStep: @Sendable (String) -> Void) async throws -> HeldLock? {
        let events = AsyncStream<String>.makeStream()
        let lines = LineSplitter { _, line in events.continuation.yield(line) }
        let command = acquireCommand(holder, stepWait: stepWait)
        let holderTask = Task {
            defer { events.continuation.finish() }
            // No time limit: the holder lives as long as the deploy, and dies with its session.
            return try await runner.runStreaming(command.script.text, timeout: nil) { kind, bytes in
                if kind == .stdout { lines.feed(kind, bytes) }
            }
        }
        // Cancelled (Ctrl-C while waiting, say for a step that still runs): the holder command is
        // abandoned too, or awaiting it below would last until that step ended, then forever.
        return try await withTaskCancellationHandler {
            try await readHolder(holder, events.stream, holderTask: holderTask, onStep: onStep)
        } onCancel: {
            holderTask.cancel()
        }
    }

    private func readHolder(_ holder: LockHolder, _ stream: AsyncStream<String>, holderTask: Task<CommandResult, Error>,
                            onStep: @Sendable (String) -> Void) async throws -> HeldLock? {
        var previous: LockHolder?
        var step = ""
        for await line in stream {
            if line.hasPrefix("previous ") {
                previous = LockHolder.parse(String(line.dropFirst("previous ".count)))
            } else if line.hasPrefix("step ") {
                step = String(line.dropFirst("step ".count)).trimmingCharacters(in: .whitespaces)
                onStep(step)
            } else if line.hasPrefix("locked "), let pid = Int(line.dropFirst("locked ".count)) {
                return HeldLock(lock: self, holder: holder, remotePID: pid, interrupted: previous, task: holderTask)
            }
        }
        let result = try await holderTask.value
        switch result.termination {
        case .exited(Self.conflictStatus): return nil
        case .exited(Self.stepRunningStatus): throw HostStateError.stepStillRunning(step.isEmpty ? "unknown" : step)
        case .exited(Self.noFlockStatus): throw HostStateError.lockToolMissing("flock is not installed")
        case .exited(Self.unusableStateStatus): throw HostStateError.stateDirectoryUnusable(state.path)
        default:
            throw HostStateError.hostCommandFailed(step: "lock", detail: "taking the lock in \(state.path) ended with \(result.termination): \(result.stderrText.prefix(300))")
        }
    }
}

/// The lock while this process holds it. `release()` is idempotent and safe on every exit path.
public final class HeldLock: @unchecked Sendable {
    public let holder: LockHolder
    /// The record a previous holder left without releasing: that deploy was interrupted.
    public let interrupted: LockHolder?
    let remotePID: Int
    private let lock: DeployLock
    private let task: Task<CommandResult, Error>
    private let mutex = NSLock()
    private var current: LockHolder
    private var released = false
    private var lastRecord: Task<Void, Never>?
    private let holderEnded = Flag()

    init(lock: DeployLock, holder: LockHolder, remotePID: Int, interrupted: LockHolder?, task: Task<CommandResult, Error>) {
        self.lock = lock
        self.holder = holder
        self.current = holder
        self.remotePID = remotePID
        self.interrupted = interrupted
        self.task = task
        Task { [holderEnded] in
            _ = try? await task.value
            holderEnded.set()
        }
    }

    /// Records the step (and revision) in the holder record, for `lock status` and for the next
    /// deploy if this one dies. Written in the background, in order, while the step runs.
    public func record(step: String, revision: String? = nil) {
        let json: String = mutex.withLock {
            current.step = step
            if let revision { current.revision = revision }
            return current.json
        }
        let command = RemoteCommand("""
            cd \(lock.state.script) && [ "$(cat holder.pid 2>/dev/null)" = \(remotePID) ] && printf '%s\\n' \(json) > holder.json.new && mv holder.json.new holder.json
            """, timeout: .seconds(20), effect: .changes("records the deploy's step in the lock holder record"))
        let runner = lock.runner
        mutex.withLock {
            let previous = lastRecord
            lastRecord = Task {
                await previous?.value
                _ = try? await runner.run(command)
            }
        }
    }

    /// Waits until every recorded step has reached the host.
    public func recorded() async {
        await mutex.withLock { lastRecord }?.value
    }

    /// True once the holder process ended without this process releasing it: the lock was
    /// broken (`lock release --force`) or the connection is gone. The deploy must stop.
    public var isLost: Bool {
        mutex.withLock { !released } && holderEnded.isSet
    }

    /// Releases the lock, waiting at most `DeployLock.releaseBound` for the holder to end: when
    /// the release command fails (a dead connection), its channel is abandoned; sshd ends it.
    public func release() async {
        let first = mutex.withLock {
            defer { released = true }
            return !released
        }
        guard first else { return }
        await recorded()
        // The release must reach the host even when the caller is being cancelled (Ctrl-C): the
        // transport abandons a cancelled task's commands, so it runs outside that cancellation.
        let lock = self.lock, pid = remotePID, task = self.task
        await Task.detached {
            _ = try? await lock.runner.run(lock.releaseCommand(pid: pid))
            let ended = await bounded(DeployLock.releaseBound) { _ = try? await task.value }
            if ended == nil { task.cancel() }
        }.value
    }
}

/// A flag set once, read from any thread.
final class Flag: @unchecked Sendable {
    private let mutex = NSLock()
    private var value = false

    var isSet: Bool { mutex.withLock { value } }

    func set() {
        mutex.withLock { value = true }
    }
}
