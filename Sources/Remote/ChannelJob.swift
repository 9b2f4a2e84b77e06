import CLibSSH2
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One command on its way through a channel's life, driven by its connection's thread: open the
/// channel, start the command, move output, stdin and end-of-file until the host closes the
/// channel, then close and free it. `finish` hands the outcome to the caller exactly once; a
/// command whose caller stopped waiting (timeout, cancellation) still has its channel cleaned up.
///
/// Sendable by discipline: the caller builds it and hands it over through the connection's locked
/// inbox; from then on only the connection thread touches it, except `cancelRequested`, which is
/// read and written under that same lock.
final class ChannelJob: @unchecked Sendable {
    enum Phase { case opening, executing, running, acknowledgingClose, freeing, done }

    let command: String
    let timeout: Duration?
    let deadline: ContinuousClock.Instant?
    private let onOutput: OutputHandler
    private var input: InputForwarder
    private var continuation: CheckedContinuation<Termination, Error>?
    private(set) var phase = Phase.opening
    private var channel: OpaquePointer?
    private var channelID: UInt32?
    private var openStarted = false
    /// Set under the connection's inbox lock only.
    var cancelRequested = false
    /// The remote command's process group (sshd starts an exec channel's command as a session
    /// leader, so its pid is its group), read from the line `sent` prints first on stderr; nil
    /// until that line came. A timed-out command is killed by it: closing the channel alone leaves
    /// the command (a `docker exec` into a paused container, say) running on the host, orphaned.
    private(set) var remoteGroup: Int32?
    /// Stderr held back until the group line is complete; nil once it was handled.
    private var groupLine: [UInt8]? = []
    /// Runs with no caller waiting (the kill of a timed-out command's group).
    private(set) var detached = false

    /// Unique enough that no command's own stderr starts with it.
    static let groupPrefix = "BOTOPS-REMOTE-GROUP "
    /// What the channel runs: the group line on stderr, then the command.
    var sent: String { "printf '\(Self.groupPrefix)%s\\n' \"$$\" >&2; \(command)" }

    /// Reads per stream per pass: a fast stream cannot starve the other commands.
    private static let readsPerPass = 16
    private static let chunkSize = 64 * 1024

    /// Kills `group` on the host (ESRCH when it is gone already is no news), awaited by no one.
    static func killing(group: Int32) -> ChannelJob {
        let job = ChannelJob(command: "kill -KILL -- -\(group) 2>/dev/null; true", timeout: .seconds(10), input: .none) { _, _ in }
        job.detached = true
        job.groupLine = nil
        return job
    }

    init(command: String, timeout: Duration?, input: CommandInput, onOutput: @escaping OutputHandler) {
        self.command = command
        self.timeout = timeout
        self.deadline = timeout.map { ContinuousClock.now.advanced(by: $0) }
        self.onOutput = onOutput
        self.input = InputForwarder(input)
    }

    func attach(_ continuation: CheckedContinuation<Termination, Error>) {
        self.continuation = continuation
    }

    /// True while a caller waits for this command.
    var isAwaited: Bool { continuation != nil }

    /// Resumes the caller once; a later outcome is dropped.
    func finish(_ outcome: Result<Termination, Error>) {
        continuation?.resume(with: outcome)
        continuation = nil
    }

    /// The caller gets `error` now; the channel is closed and freed in the background.
    func abandon(with error: Error) {
        finish(.failure(error))
        switch phase {
        case .executing, .running, .acknowledgingClose: phase = .freeing
        case .opening, .freeing, .done: break  // an open in progress completes first, then frees
        }
    }

    /// For a command whose channel the server refused: it will open another later.
    func restartOpen() {
        phase = .opening
        openStarted = false
    }

    /// The descriptor to watch for stdin, while the command can take more.
    var inputToWatch: Int32? {
        phase == .running && isAwaited ? input.descriptorToWatch : nil
    }

    /// Advances as far as possible without blocking; true if anything happened. Throws
    /// `ChannelFailure` for this command alone and `TransportFailure` for the whole connection.
    func step(_ session: SSHSession, inputBuffer: UnsafeMutableRawBufferPointer) throws -> Bool {
        switch phase {
        case .opening:
            if !openStarted {
                session.beginChannelOpen()
                openStarted = true
            }
            guard let opened = botops_channel_open_session(session.handle) else {
                let code = session.lastErrorCode
                if isAgain(code) { return false }
                phase = .done  // no channel to clean up
                throw failure(session, code: code, operation: ChannelFailure.opening)
            }
            channel = opened
            channelID = session.openedChannelID
            phase = isAwaited || detached ? .executing : .freeing
            return true

        case .executing:
            let code = botops_channel_exec(channel, detached ? command : sent)
            if isAgain(code) { return false }
            if code != 0 { throw failure(session, code: code, operation: "starting the command") }
            phase = .running
            return true

        case .running:
            var progressed = try drain(.stdout, session)
            progressed = try drain(.stderr, session) || progressed
            progressed = try input.forward(to: channel, session: session, buffer: inputBuffer) || progressed
            guard botops_channel_eof(channel) != 0 else { return progressed }
            if let held = groupLine, !held.isEmpty, isAwaited { onOutput(.stderr, held) }
            groupLine = nil
            // The host sent its end of output; its close follows once the command has exited
            // (stdin keeps flowing until then, as with ssh).
            let code = libssh2_channel_wait_closed(channel)
            if isAgain(code) { return progressed }
            if code != 0 { throw failure(session, code: code, operation: "waiting for the command to end") }
            finish(.success(termination(session)))
            phase = .acknowledgingClose
            return true

        case .acknowledgingClose:
            return try advance(after: libssh2_channel_close(channel), session, to: .freeing)

        case .freeing:
            let freed = try advance(after: libssh2_channel_free(channel), session, to: .done)
            if freed { channel = nil }
            return freed

        case .done:
            return false
        }
    }

    /// For closing and freeing: a channel error changes nothing then, the channel is going anyway.
    private func advance(after code: Int32, _ session: SSHSession, to next: Phase) throws -> Bool {
        if isAgain(code) { return false }
        if code != 0 && !isChannelError(code) { throw TransportFailure(detail: session.lastErrorMessage()) }
        phase = next
        return true
    }

    /// Hands over what is available on one stream, raw: decoding is the receiver's business. Each
    /// chunk is read straight into the array the receiver gets, so bytes are copied once here.
    private func drain(_ stream: OutputKind, _ session: SSHSession) throws -> Bool {
        for reads in 0..<Self.readsPerPass {
            var count = 0
            let chunk = [UInt8](unsafeUninitializedCapacity: Self.chunkSize) { bytes, initialized in
                count = bytes.withMemoryRebound(to: CChar.self) { buffer in
                    stream == .stdout
                        ? botops_channel_read_stdout(channel, buffer.baseAddress, buffer.count)
                        : botops_channel_read_stderr(channel, buffer.baseAddress, buffer.count)
                }
                initialized = max(count, 0)
            }
            if count > 0 {
                let shown = stream == .stderr ? takeGroupLine(chunk) : chunk
                if isAwaited, !shown.isEmpty { onOutput(stream, shown) }
            } else if count == 0 || isAgain(count) {
                return reads > 0
            } else {
                throw failure(session, code: Int32(truncatingIfNeeded: count), operation: "reading output")
            }
        }
        return true
    }

    /// Stderr past the group line; the line itself sets `remoteGroup`. A first line that is not the
    /// group line (a shell that printed something first) is passed on whole.
    private func takeGroupLine(_ chunk: [UInt8]) -> [UInt8] {
        guard var held = groupLine else { return chunk }
        held += chunk
        guard let newline = held.firstIndex(of: UInt8(ascii: "\n")) else {
            // Still possibly the group line (the prefix and at most ten digits so far): wait for more.
            let prefix = Array(Self.groupPrefix.utf8)
            if held.count <= prefix.count + 10, prefix.starts(with: held) || held.starts(with: prefix) {
                groupLine = held
                return []
            }
            groupLine = nil
            return held
        }
        groupLine = nil
        let line = String(decoding: held[..<newline], as: UTF8.self)
        guard line.hasPrefix(Self.groupPrefix), let group = Int32(line.dropFirst(Self.groupPrefix.count)), group > 1 else { return held }
        remoteGroup = group
        return Array(held[(newline + 1)...])
    }

    /// How the host says the command ended. libssh2 reads 0 when no exit status came; the shim
    /// tells that apart from a real 0 (when it could name the channel, which it does on libssh2 1.10).
    private func termination(_ session: SSHSession) -> Termination {
        var signal: UnsafeMutablePointer<CChar>?
        var signalLength = 0
        libssh2_channel_get_exit_signal(channel, &signal, &signalLength, nil, nil, nil, nil)
        if let signal {
            defer { libssh2_free(session.handle, signal) }
            return .signaled(String(cString: signal))
        }
        let status = libssh2_channel_get_exit_status(channel)
        guard let channelID else { return .exited(status) }
        return session.takeExitStatusReport(channel: channelID) ? .exited(status) : .noExitStatus
    }

    private func failure(_ session: SSHSession, code: Int32, operation: String) -> Error {
        let detail = session.lastErrorMessage()
        return isChannelError(code) ? ChannelFailure(operation: operation, detail: detail) : TransportFailure(detail: detail)
    }
}

/// A failure that concerns one command only.
struct ChannelFailure: Error {
    static let opening = "opening a channel"

    let operation: String
    let detail: String
}

/// Moves a command's stdin from a local descriptor into its channel, then sends end-of-file. At
/// most one buffer is in flight: more is read only once the channel took the last, so a command
/// that reads slowly holds botops back instead of filling its memory.
struct InputForwarder {
    private let descriptor: Int32?
    private var pending: [UInt8] = []
    private var written = 0
    private var reachedEnd: Bool
    private var done = false

    init(_ input: CommandInput) {
        switch input {
        case .none:
            descriptor = nil
            reachedEnd = true
        case .fileDescriptor(let fd):
            descriptor = fd
            reachedEnd = false
        }
    }

    /// The descriptor to poll, while more input is wanted.
    var descriptorToWatch: Int32? {
        !done && !reachedEnd && written == pending.count ? descriptor : nil
    }

    mutating func forward(to channel: OpaquePointer?, session: SSHSession, buffer: UnsafeMutableRawBufferPointer) throws -> Bool {
        var progressed = false
        while !done {
            if written == pending.count && !reachedEnd {
                guard let descriptor, Self.isReadable(descriptor) else { return progressed }
                let count = read(descriptor, buffer.baseAddress, buffer.count)
                if count > 0 {
                    pending = [UInt8](UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                    written = 0
                } else if count < 0 && (errno == EINTR || errno == EAGAIN) {
                    return progressed
                } else {
                    reachedEnd = true  // end of file, or an unreadable descriptor: either way, no more
                }
                progressed = true
            }
            if written < pending.count {
                let count = pending.withUnsafeBytes { bytes in
                    botops_channel_write_stdin(channel, bytes.baseAddress!.advanced(by: written).assumingMemoryBound(to: CChar.self), bytes.count - written)
                }
                if count > 0 {
                    written += count
                    progressed = true
                    continue
                }
                if count == 0 || isAgain(count) { return progressed }
                guard isChannelError(Int32(truncatingIfNeeded: count)) else { throw TransportFailure(detail: session.lastErrorMessage()) }
                done = true  // the host closed its side: the command does not read any more
                return true
            }
            if reachedEnd {
                let code = libssh2_channel_send_eof(channel)
                if isAgain(code) { return progressed }
                if code != 0 && !isChannelError(code) { throw TransportFailure(detail: session.lastErrorMessage()) }
                done = true
                return true
            }
        }
        return progressed
    }

    private static func isReadable(_ descriptor: Int32) -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) > 0
    }
}
