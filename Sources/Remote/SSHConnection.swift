import CLibSSH2
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// libssh2 must be initialised once per process, before any session exists.
private let libssh2Ready: Bool = libssh2_init(0) == 0

/// One SSH connection to one host, carrying many concurrent commands as separate channels.
///
/// libssh2 sessions are not thread-safe, so every libssh2 call for this connection happens on one
/// dedicated thread (never on Swift's cooperative pool). That thread runs the session in
/// non-blocking mode and multiplexes all channels: it drains stdout and stderr of every channel on
/// each pass, so a command with large output never stalls the others.
public final class SSHConnection: HostConnection, @unchecked Sendable {
    public let target: SSHTarget
    /// SHA256 fingerprint of the host key, as `ssh-keygen -l` prints it.
    public private(set) var hostKeyFingerprint = ""
    public var destination: String { target.displayName }

    /// OpenSSH allows 10 sessions per connection by default (MaxSessions); stay within that.
    private var channelLimit: Int
    private let inboxLock = NSLock()
    private var inbox: [Job] = []
    private var shutdownRequested = false
    private var threadFinished = false
    private var closeWaiters: [CheckedContinuation<Void, Never>] = []
    private let wakePipe: (read: Int32, write: Int32)

    // Owned by the connection thread only.
    private var socketFD: Int32 = -1
    private var session: OpaquePointer?
    private var pending: [Job] = []
    private var active: [Job] = []
    private var readBuffer = [CChar](repeating: 0, count: 64 * 1024)
    /// Bytes libssh2 has read from the socket (counted by the shim's recv callback).
    private let receivedBytes = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)

    private init(target: SSHTarget, channelLimit: Int) {
        self.target = target
        self.channelLimit = channelLimit
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0, "pipe failed: \(errnoText())")
        for fd in fds {
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        wakePipe = (fds[0], fds[1])
    }

    deinit {
        Glibc.close(wakePipe.read)
        Glibc.close(wakePipe.write)
        receivedBytes.deallocate()
    }

    /// Connects, verifies the host key and authenticates. Everything blocking runs on the
    /// connection's own thread, which then stays to serve commands until `close()`.
    public static func connect(to target: SSHTarget, channelLimit: Int = 10) async throws -> SSHConnection {
        precondition(libssh2Ready, "libssh2_init failed")
        let connection = SSHConnection(target: target, channelLimit: channelLimit)
        try await withCheckedThrowingContinuation { (ready: CheckedContinuation<Void, Error>) in
            let thread = Thread { connection.threadMain(ready: ready) }
            thread.name = "ssh \(target.displayName)"
            thread.start()
        }
        return connection
    }

    public func run(_ command: String, timeout: Duration? = nil, onOutput: OutputHandler? = nil) async throws -> CommandResult {
        try await withCheckedThrowingContinuation { continuation in
            let job = Job(command: command, timeout: timeout, onOutput: onOutput, continuation: continuation)
            inboxLock.withLock {
                if shutdownRequested {
                    job.finish(.failure(RemoteError.connectionLost(host: target.hostname, detail: "connection already closed")))
                } else {
                    inbox.append(job)
                }
            }
            wake()
        }
    }

    /// Lets running commands finish, then disconnects; returns once the connection's thread is
    /// gone, so that exiting the process right after cannot race libssh2's teardown.
    public func close() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let finished = inboxLock.withLock {
                shutdownRequested = true
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
        do {
            try establish()
        } catch {
            teardown()
            finishThread()
            ready.resume(throwing: error)
            return
        }
        ready.resume()
        serve()
        teardown()
        finishThread()
    }

    private func finishThread() {
        let waiters = inboxLock.withLock {
            threadFinished = true
            shutdownRequested = true
            defer { closeWaiters.removeAll() }
            return closeWaiters
        }
        waiters.forEach { $0.resume() }
    }

    private func establish() throws {
        socketFD = try TCPConnect.open(host: target.hostname, port: target.port, timeoutSeconds: target.connectTimeout)
        receivedBytes.pointee = 0
        guard let session = botops_session_init(receivedBytes) else {
            throw RemoteError.sshFailure(host: target.hostname, operation: "session setup", detail: "libssh2_session_init returned no session")
        }
        self.session = session
        // Blocking mode with a timeout for the handshake and authentication; non-blocking afterwards.
        libssh2_session_set_blocking(session, 1)
        libssh2_session_set_timeout(session, Int(target.connectTimeout * 1000))

        let handshake = libssh2_session_handshake(session, libssh2_socket_t(socketFD))
        if handshake != 0 {
            throw handshakeError(code: handshake)
        }
        hostKeyFingerprint = try HostKeyVerifier(session: session, target: target).verify()
        try SSHAuthenticator(session: session, user: target.user, host: target.hostname).authenticate(identityFiles: target.identityFiles, agentSocket: target.agentSocket)

        libssh2_session_set_timeout(session, 0)
        libssh2_session_set_blocking(session, 0)
        libssh2_keepalive_config(session, 1, UInt32(max(target.keepaliveInterval, 1)))
    }

    private func handshakeError(code: Int32) -> RemoteError {
        let detail = lastErrorMessage()
        if code == LIBSSH2_ERROR_TIMEOUT {
            return .connectTimedOut(host: target.hostname, port: target.port, seconds: target.connectTimeout)
        }
        let banner = session.flatMap { libssh2_session_banner_get($0) }.map { String(cString: $0) } ?? ""
        if !banner.hasPrefix("SSH-") {
            return .notSSHServer(host: target.hostname, port: target.port, detail: detail)
        }
        return .sshFailure(host: target.hostname, operation: "handshake", detail: detail)
    }

    private func lastErrorMessage() -> String {
        guard let session else { return "no session" }
        var message: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        let code = libssh2_session_last_error(session, &message, &length, 0)
        let text = message.map { String(cString: $0) } ?? "unknown error"
        return "\(text) (libssh2 error \(code))"
    }

    private func serve() {
        while true {
            let (newJobs, stopping) = inboxLock.withLock { () -> ([Job], Bool) in
                defer { inbox.removeAll() }
                return (inbox, shutdownRequested)
            }
            pending.append(contentsOf: newJobs)
            if stopping && pending.isEmpty && active.isEmpty { return }

            let receivedBefore = receivedBytes.pointee
            var progressed = expireTimedOutJobs()
            if active.count < channelLimit, !active.contains(where: { $0.phase == .opening }), !pending.isEmpty {
                active.append(pending.removeFirst())
                progressed = true
            }
            do {
                for job in active {
                    progressed = try step(job) || progressed
                }
            } catch {
                failAll(error)
                return
            }
            active.removeAll { $0.phase == .done }

            var secondsToKeepalive: Int32 = 15
            if libssh2_keepalive_send(session, &secondsToKeepalive) != 0, !isAgain(libssh2_session_last_errno(session)) {
                failAll(RemoteError.connectionLost(host: target.hostname, detail: lastErrorMessage()))
                return
            }
            // Data read off the socket during this pass may be queued for a channel already visited.
            if !progressed && receivedBytes.pointee == receivedBefore {
                waitForSocket(maxMilliseconds: min(Int(secondsToKeepalive) * 1000, millisecondsToNextDeadline()))
            }
        }
    }

    /// Advances one job as far as it goes without blocking. Returns true if anything happened.
    private func step(_ job: Job) throws -> Bool {
        switch job.phase {
        case .opening:
            guard let channel = botops_channel_open_session(session) else {
                let code = libssh2_session_last_errno(session)
                if isAgain(code) { return false }
                if code == LIBSSH2_ERROR_CHANNEL_FAILURE, active.count > 1 {
                    // The server allows fewer sessions than we assumed: queue the job and lower the limit.
                    channelLimit = max(1, active.count - 1)
                    active.removeAll { $0 === job }
                    pending.insert(job, at: 0)
                    return true
                }
                try failJobOrConnection(job, code: code, operation: "opening a channel")
                return true
            }
            job.channel = channel
            job.phase = .executing
            return true

        case .executing:
            let code = botops_channel_exec(job.channel, job.command)
            if isAgain(code) { return false }
            if code != 0 {
                try failJobOrConnection(job, code: code, operation: "starting the command")
                return true
            }
            job.phase = .reading
            return true

        case .reading:
            let gotStdout = try drain(job, stream: .stdout)
            let gotStderr = try drain(job, stream: .stderr)
            if botops_channel_eof(job.channel) != 0 {
                job.phase = .closing
                return true
            }
            return gotStdout || gotStderr

        case .closing:
            let code = libssh2_channel_close(job.channel)
            if isAgain(code) { return false }
            job.phase = .waitingForClose
            return true

        case .waitingForClose:
            let code = libssh2_channel_wait_closed(job.channel)
            if isAgain(code) { return false }
            job.result = CommandResult(termination: termination(of: job.channel), stdout: job.stdout, stderr: job.stderr)
            job.phase = .freeing
            return true

        case .freeing:
            if isAgain(libssh2_channel_free(job.channel)) { return false }
            job.channel = nil
            job.phase = .done
            if let result = job.result { job.finish(.success(result)) }
            return true

        case .done:
            return false
        }
    }

    /// Reads everything available on one stream. Raw bytes are kept; decoding happens later.
    private func drain(_ job: Job, stream: OutputKind) throws -> Bool {
        var progressed = false
        while true {
            let count = readBuffer.withUnsafeMutableBufferPointer { buffer in
                stream == .stdout
                    ? botops_channel_read_stdout(job.channel, buffer.baseAddress, buffer.count)
                    : botops_channel_read_stderr(job.channel, buffer.baseAddress, buffer.count)
            }
            if count > 0 {
                let chunk = readBuffer.withUnsafeBufferPointer { buffer in
                    UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: buffer[0..<count])).map { $0 }
                }
                if stream == .stdout { job.stdout += chunk } else { job.stderr += chunk }
                job.onOutput?(stream, chunk)
                progressed = true
            } else if count == 0 || isAgain(Int32(count)) {
                return progressed
            } else {
                throw RemoteError.connectionLost(host: target.hostname, detail: lastErrorMessage())
            }
        }
    }

    private func termination(of channel: OpaquePointer?) -> Termination {
        var signal: UnsafeMutablePointer<CChar>?
        var signalLength = 0
        libssh2_channel_get_exit_signal(channel, &signal, &signalLength, nil, nil, nil, nil)
        if let signal {
            defer { libssh2_free(session, signal) }
            return .signaled(String(cString: signal))
        }
        return .exited(libssh2_channel_get_exit_status(channel))
    }

    /// A failure that concerns one channel fails that command; a dead transport fails them all.
    private func failJobOrConnection(_ job: Job, code: Int32, operation: String) throws {
        let message = lastErrorMessage()
        if code == LIBSSH2_ERROR_SOCKET_DISCONNECT || code == LIBSSH2_ERROR_SOCKET_SEND || code == LIBSSH2_ERROR_SOCKET_RECV {
            throw RemoteError.connectionLost(host: target.hostname, detail: message)
        }
        job.phase = job.channel == nil ? .done : .freeing
        job.result = nil
        job.finish(.failure(RemoteError.sshFailure(host: target.hostname, operation: operation, detail: message)))
    }

    private func expireTimedOutJobs() -> Bool {
        let now = ContinuousClock.now
        var expired = false
        for job in pending + active where job.phase != .freeing && job.phase != .done {
            guard let deadline = job.deadline, deadline <= now else { continue }
            job.result = nil
            job.phase = job.channel == nil ? .done : .freeing
            job.finish(.failure(RemoteError.commandTimedOut(command: job.command, seconds: job.timeoutSeconds)))
            expired = true
        }
        pending.removeAll { $0.phase == .done }
        return expired
    }

    private func millisecondsToNextDeadline() -> Int {
        let now = ContinuousClock.now
        let nearest = (pending + active).compactMap(\.deadline).min()
        guard let nearest else { return 1000 }
        let remaining = now.duration(to: nearest)
        return max(1, min(1000, Int(totalSeconds(remaining) * 1000) + 1))
    }

    private func waitForSocket(maxMilliseconds: Int) {
        let directions = libssh2_session_block_directions(session)
        var events: Int16 = 0
        if directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 { events |= Int16(POLLOUT) }
        if directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0 || events == 0 { events |= Int16(POLLIN) }
        var fds = [pollfd(fd: socketFD, events: events, revents: 0), pollfd(fd: wakePipe.read, events: Int16(POLLIN), revents: 0)]
        _ = poll(&fds, 2, Int32(maxMilliseconds))
        if fds[1].revents != 0 {
            var sink = [UInt8](repeating: 0, count: 64)
            while read(wakePipe.read, &sink, sink.count) > 0 {}
        }
    }

    private func failAll(_ error: Error) {
        inboxLock.withLock { shutdownRequested = true }
        for job in pending + active where job.phase != .done {
            job.finish(.failure(error))
        }
        pending.removeAll()
        active.removeAll()
    }

    private func teardown() {
        if let session {
            libssh2_session_set_blocking(session, 1)
            libssh2_session_set_timeout(session, 2000)
            libssh2_session_disconnect_ex(session, SSH_DISCONNECT_BY_APPLICATION, "botops done", "")
            libssh2_session_free(session)
            self.session = nil
        }
        if socketFD >= 0 {
            Glibc.close(socketFD)
            socketFD = -1
        }
        let leftovers = inboxLock.withLock { () -> [Job] in
            defer { inbox.removeAll() }
            return inbox
        }
        for job in leftovers {
            job.finish(.failure(RemoteError.connectionLost(host: target.hostname, detail: "connection closed")))
        }
    }
}

private func isAgain<T: BinaryInteger>(_ code: T) -> Bool { code == LIBSSH2_ERROR_EAGAIN }

/// One command on its way through a channel's life.
private final class Job {
    enum Phase { case opening, executing, reading, closing, waitingForClose, freeing, done }

    let command: String
    let deadline: ContinuousClock.Instant?
    let timeoutSeconds: Double
    let onOutput: OutputHandler?
    private var continuation: CheckedContinuation<CommandResult, Error>?
    var phase = Phase.opening
    var channel: OpaquePointer?
    var stdout: [UInt8] = []
    var stderr: [UInt8] = []
    var result: CommandResult?

    init(command: String, timeout: Duration?, onOutput: OutputHandler?, continuation: CheckedContinuation<CommandResult, Error>) {
        self.command = command
        self.deadline = timeout.map { ContinuousClock.now.advanced(by: $0) }
        self.timeoutSeconds = timeout.map(totalSeconds) ?? 0
        self.onOutput = onOutput
        self.continuation = continuation
    }

    /// Resumes the caller exactly once; a late second outcome (e.g. after a timeout) is dropped.
    func finish(_ outcome: Result<CommandResult, Error>) {
        continuation?.resume(with: outcome)
        continuation = nil
    }
}
