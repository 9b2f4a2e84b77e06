import CLibSSH2
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One SSH connection to one host, carrying many concurrent commands as separate channels.
///
/// libssh2 sessions are not thread-safe, so every libssh2 call for this connection happens on one
/// dedicated thread (never on Swift's cooperative pool). That thread runs the session in
/// non-blocking mode and multiplexes all channels: it drains stdout and stderr of every channel on
/// each pass, so a command with large output never stalls the others. While commands run it sends
/// keepalives and declares the connection lost when the host stops answering (`PeerLiveness`).
public final class SSHConnection: HostConnection, @unchecked Sendable {
    public let target: SSHTarget
    /// The host key the host presented and known_hosts vouched for.
    public private(set) var hostKey = HostKeyIdentity(type: "", fingerprint: "")
    /// SHA256 fingerprint of the host key, as `ssh-keygen -l` prints it.
    public var hostKeyFingerprint: String { hostKey.fingerprint }
    public var destination: String { target.displayName }

    // Shared between callers and the connection thread, under `inboxLock`.
    private let inboxLock = NSLock()
    private var inbox: [ChannelJob] = []
    private var cancelled: [ChannelJob] = []
    private var closeRequested = false
    /// Why new commands are refused, once the connection has ended.
    private var endedBecause: RemoteError?
    private var threadFinished = false
    private var closeWaiters: [CheckedContinuation<Void, Never>] = []
    private let wakePipe: (read: Int32, write: Int32)

    // Owned by the connection thread only.
    /// OpenSSH allows 10 sessions per connection by default (MaxSessions); stay within that.
    private var channelLimit: Int
    private var pending: [ChannelJob] = []
    private var active: [ChannelJob] = []
    private var deadlines = CommandDeadlines<ObjectIdentifier>()
    /// When the connection thread first saw the close request.
    private var closingSince: ContinuousClock.Instant?
    /// How long a close waits for kills of timed-out commands still on their way.
    private static let killGrace: Duration = .seconds(2)
    private var liveness: PeerLiveness
    /// Where stdin is read into on its way to a channel.
    private let inputBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)

    private init(target: SSHTarget, channelLimit: Int) {
        self.target = target
        self.channelLimit = channelLimit
        liveness = PeerLiveness(serverAliveInterval: target.serverAliveInterval, countMax: target.serverAliveCountMax)
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0, "pipe failed: \(errnoText())")
        for fd in fds {
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        wakePipe = (fds[0], fds[1])
    }

    deinit {
        closeDescriptor(wakePipe.read)
        closeDescriptor(wakePipe.write)
        inputBuffer.deallocate()
    }

    /// Connects, verifies the host key and authenticates. Everything blocking runs on the
    /// connection's own thread, which then stays to serve commands until `close()`.
    public static func connect(to target: SSHTarget, channelLimit: Int = 10) async throws -> SSHConnection {
        let connection = SSHConnection(target: target, channelLimit: channelLimit)
        try await withCheckedThrowingContinuation { (ready: CheckedContinuation<Void, Error>) in
            let thread = Thread { connection.threadMain(ready: ready) }
            thread.name = "ssh \(target.displayName)"
            thread.start()
        }
        return connection
    }

    public func stream(_ command: String, timeout: Duration?, input: CommandInput, onOutput: @escaping OutputHandler) async throws -> Termination {
        let job = ChannelJob(command: command, timeout: timeout, input: input, onOutput: onOutput)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                job.attach(continuation)
                let refusal: Error? = inboxLock.withLock {
                    if job.cancelRequested { return CancellationError() }
                    if closeRequested {
                        return endedBecause ?? RemoteError.connectionLost(host: target.hostname, detail: "botops had already closed this connection", commands: [])
                    }
                    inbox.append(job)
                    return nil
                }
                if let refusal { job.finish(.failure(refusal)) } else { wake() }
            }
        } onCancel: {
            inboxLock.withLock {
                job.cancelRequested = true
                cancelled.append(job)
            }
            wake()
        }
    }

    /// Disconnects at once. Commands still running are abandoned (their callers get
    /// `closedWhileRunning`); nothing waits on the host, so a dead host cannot hold this up.
    /// Returns once the connection's thread is gone, so that exiting the process right after
    /// cannot race libssh2's teardown.
    public func close() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let finished = inboxLock.withLock {
                closeRequested = true
                if !threadFinished { closeWaiters.append(done) }
                return threadFinished
            }
            if finished { done.resume() } else { wake() }
        }
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakePipe.write, &byte, 1)
    }

    // MARK: - Connection thread

    private func threadMain(ready: CheckedContinuation<Void, Error>) {
        let session: SSHSession
        do {
            session = try SSHSession.open(target)
        } catch {
            finishThread(endedBecause: nil)
            ready.resume(throwing: error)
            return
        }
        hostKey = session.hostKey
        session.configureKeepalive(seconds: liveness.keepaliveSeconds)
        ready.resume()
        let lost = serve(session)
        session.end(sayingGoodbye: lost == nil)
        finishThread(endedBecause: lost)
    }

    private func finishThread(endedBecause lost: RemoteError?) {
        let (waiters, leftovers) = inboxLock.withLock {
            threadFinished = true
            closeRequested = true
            endedBecause = lost
            defer {
                closeWaiters.removeAll()
                inbox.removeAll()
            }
            return (closeWaiters, inbox)
        }
        for job in leftovers {
            job.finish(.failure(lost ?? RemoteError.closedWhileRunning(host: target.hostname, command: job.command)))
        }
        waiters.forEach { $0.resume() }
    }

    /// Runs commands until `close()` (returns nil) or until the connection is lost (returns why).
    private func serve(_ session: SSHSession) -> RemoteError? {
        var heardBytes = session.receivedBytes
        while true {
            let (newJobs, cancellations, closing) = inboxLock.withLock {
                defer {
                    inbox.removeAll()
                    cancelled.removeAll()
                }
                return (inbox, cancelled, closeRequested)
            }
            for job in newJobs {
                pending.append(job)
                deadlines.set(ObjectIdentifier(job), job.deadline)
            }
            var progressed = !newJobs.isEmpty
            for job in cancellations where job.isAwaited {
                abandon(job, with: CancellationError())
                progressed = true
            }
            if closing {
                for job in pending + active where job.isAwaited {
                    abandon(job, with: RemoteError.closedWhileRunning(host: target.hostname, command: job.command))
                }
                // A kill of a timed-out command still on its way gets a moment (a command that
                // timed out just before close, as `exec --timeout` does); a dead host cannot hold
                // the close up longer than that.
                let closeStarted = closingSince ?? .now
                closingSince = closeStarted
                guard (pending + active).contains(where: { $0.detached && $0.phase != .done }),
                      ContinuousClock.now < closeStarted.advanced(by: Self.killGrace) else { return nil }
            }

            for id in deadlines.expire(at: .now) {
                guard let job = (pending + active).first(where: { ObjectIdentifier($0) == id }) else { continue }
                abandon(job, with: RemoteError.commandTimedOut(command: job.command, seconds: job.timeout.map(totalSeconds) ?? 0))
                // Closing its channel does not stop the command on the host: kill what it started.
                if let group = job.remoteGroup, !job.detached {
                    let killer = ChannelJob.killing(group: group)
                    pending.append(killer)
                    deadlines.set(ObjectIdentifier(killer), killer.deadline)
                }
                progressed = true
            }
            pending.removeAll { $0.phase == .done || (!$0.isAwaited && !$0.detached) }

            if active.count < channelLimit, !active.contains(where: { $0.phase == .opening }), !pending.isEmpty {
                // Time spent idle between commands is not the host's silence.
                if active.isEmpty { liveness.heard() }
                active.append(pending.removeFirst())
                progressed = true
            }
            do {
                for job in active {
                    progressed = try step(job, session) || progressed
                }
            } catch {
                return lose(connectionLost(error))
            }
            for job in active where job.phase == .done { deadlines.remove(ObjectIdentifier(job)) }
            active.removeAll { $0.phase == .done }

            guard !active.isEmpty else {
                if !progressed { waitForWake(session, watchSocket: false, timeout: nil) }
                continue
            }
            let keepaliveDue: Int?
            do {
                keepaliveDue = try session.sendKeepaliveIfDue()
            } catch {
                return lose(connectionLost(error))
            }
            if session.receivedBytes != heardBytes {
                heardBytes = session.receivedBytes
                liveness.heard()
                // Data read off the socket during this pass may be queued for a channel already visited.
                continue
            }
            if liveness.isDead {
                return lose(connectionLost(TransportFailure(detail: liveness.lostDetail)))
            }
            if !progressed {
                let graceLeft = closingSince.map { max(ContinuousClock.now.duration(to: $0.advanced(by: Self.killGrace)), .zero) }
                let waits = [keepaliveDue.map { Duration.seconds($0) }, liveness.timeLeft, deadlines.timeUntilNext(from: .now), graceLeft]
                let start = ContinuousClock.now
                waitForWake(session, watchSocket: true, timeout: waits.compactMap { $0 }.min())
                liveness.waited(.now - start)
            }
        }
    }

    /// Advances one job; a failure of its own channel fails that command only.
    private func step(_ job: ChannelJob, _ session: SSHSession) throws -> Bool {
        do {
            return try job.step(session, inputBuffer: inputBuffer)
        } catch let failure as ChannelFailure {
            if failure.operation == ChannelFailure.opening, active.count > 1 {
                // The server allows fewer sessions than we assumed: queue the job and lower the limit.
                channelLimit = max(1, active.count - 1)
                active.removeAll { $0 === job }
                job.restartOpen()
                pending.insert(job, at: 0)
                return true
            }
            abandon(job, with: RemoteError.sshFailure(host: target.hostname, operation: failure.operation, detail: failure.detail))
            return true
        }
    }

    private func abandon(_ job: ChannelJob, with error: Error) {
        job.abandon(with: error)
        deadlines.remove(ObjectIdentifier(job))
    }

    /// The transport failed: every command that was running is affected.
    private func connectionLost(_ error: Error) -> RemoteError {
        let detail = (error as? TransportFailure)?.detail ?? "\(error)"
        return .connectionLost(host: target.hostname, detail: detail, commands: active.filter(\.isAwaited).map(\.command))
    }

    /// Fails every command still waiting with `error`, which also refuses later ones.
    private func lose(_ error: RemoteError) -> RemoteError {
        for job in pending + active where job.isAwaited {
            job.finish(.failure(error))
        }
        pending.removeAll()
        active.removeAll()
        return error
    }

    /// Sleeps until the socket (when commands run), a command's stdin, or a caller needs us.
    private func waitForWake(_ session: SSHSession, watchSocket: Bool, timeout: Duration?) {
        var fds = [pollfd(fd: wakePipe.read, events: Int16(POLLIN), revents: 0)]
        if watchSocket {
            fds.append(pollfd(fd: session.socket, events: session.pollEvents, revents: 0))
        }
        for job in active {
            if let fd = job.inputToWatch { fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
        }
        _ = poll(&fds, nfds_t(fds.count), pollMilliseconds(timeout))
        if fds[0].revents != 0 {
            var sink = [UInt8](repeating: 0, count: 64)
            while read(wakePipe.read, &sink, sink.count) > 0 {}
        }
    }
}
