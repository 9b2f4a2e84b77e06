import CLibSSH2
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// libssh2 must be initialised once per process, before any session exists.
private let libssh2Ready: Bool = libssh2_init(0) == 0

/// One libssh2 session over its TCP socket, logged in. libssh2 sessions are not thread-safe: a
/// session is created, used and ended on its connection's thread only.
final class SSHSession {
    let target: SSHTarget
    let socket: Int32
    let handle: OpaquePointer
    /// Filled by the shim's callbacks (see shim.h).
    private let state: UnsafeMutablePointer<botops_session_state>
    private(set) var hostKey = HostKeyIdentity(type: "", fingerprint: "")
    private var ended = false

    /// Connects, verifies the host key and authenticates, blocking up to ConnectTimeout per step.
    static func open(_ target: SSHTarget) throws -> SSHSession {
        precondition(libssh2Ready, "libssh2_init failed")
        let socket = try TCPConnect.open(host: target.hostname, port: target.port, timeoutSeconds: target.connectTimeout)
        let state = UnsafeMutablePointer<botops_session_state>.allocate(capacity: 1)
        guard let handle = botops_session_init(state) else {
            closeDescriptor(socket)
            state.deallocate()
            throw RemoteError.sshFailure(host: target.hostname, operation: "session setup", detail: "libssh2_session_init returned no session")
        }
        let session = SSHSession(target: target, socket: socket, handle: handle, state: state)
        do {
            try session.logIn()
        } catch {
            session.end(sayingGoodbye: false)
            throw error
        }
        return session
    }

    private init(target: SSHTarget, socket: Int32, handle: OpaquePointer, state: UnsafeMutablePointer<botops_session_state>) {
        self.target = target
        self.socket = socket
        self.handle = handle
        self.state = state
    }

    deinit {
        end(sayingGoodbye: false)
    }

    private func logIn() throws {
        // Blocking with a timeout for the handshake and authentication; non-blocking afterwards.
        libssh2_session_set_blocking(handle, 1)
        libssh2_session_set_timeout(handle, Int(target.connectTimeout * 1000))

        let verifier = HostKeyVerifier(target: target)
        let preference = try verifier.algorithmPreference(supported: supportedHostKeyAlgorithms())
        guard libssh2_session_method_pref(handle, LIBSSH2_METHOD_HOSTKEY, preference.joined(separator: ",")) == 0 else {
            throw RemoteError.sshFailure(host: target.hostname, operation: "choosing host key algorithms", detail: lastErrorMessage())
        }
        let handshake = libssh2_session_handshake(handle, libssh2_socket_t(socket))
        if handshake != 0 {
            throw handshakeError(code: handshake)
        }
        hostKey = try verifier.verify(key: offeredHostKey(), fingerprint: hostKeyFingerprint())
        try SSHAuthenticator(session: handle, user: target.user, host: target.hostname)
            .authenticate(identityFiles: target.identityFiles, agentSocket: target.agentSocket)

        libssh2_session_set_timeout(handle, 0)
        libssh2_session_set_blocking(handle, 0)
    }

    private func supportedHostKeyAlgorithms() -> [String] {
        var names: UnsafeMutablePointer<UnsafePointer<CChar>?>?
        let count = libssh2_session_supported_algs(handle, LIBSSH2_METHOD_HOSTKEY, &names)
        guard count > 0, let names else { return [] }
        defer { libssh2_free(handle, names) }
        return (0..<Int(count)).compactMap { names[$0].map { String(cString: $0) } }
    }

    private func offeredHostKey() throws -> [UInt8] {
        var length = 0
        var type: Int32 = 0
        guard let key = libssh2_session_hostkey(handle, &length, &type) else {
            throw RemoteError.sshFailure(host: target.hostname, operation: "host key exchange", detail: "server sent no host key")
        }
        return Array(UnsafeRawBufferPointer(start: key, count: length))
    }

    /// SHA256 fingerprint of the host key, as `ssh-keygen -l` prints it.
    private func hostKeyFingerprint() -> String {
        guard let hash = libssh2_hostkey_hash(handle, LIBSSH2_HOSTKEY_HASH_SHA256) else { return "SHA256:?" }
        return "SHA256:" + Data(bytes: hash, count: 32).base64EncodedString().replacing("=", with: "")
    }

    private func handshakeError(code: Int32) -> RemoteError {
        let detail = lastErrorMessage()
        if code == LIBSSH2_ERROR_TIMEOUT {
            return .connectTimedOut(host: target.hostname, port: target.port, seconds: target.connectTimeout)
        }
        let banner = libssh2_session_banner_get(handle).map { String(cString: $0) } ?? ""
        if !banner.hasPrefix("SSH-") {
            return .notSSHServer(host: target.hostname, port: target.port, detail: detail)
        }
        return .sshFailure(host: target.hostname, operation: "handshake", detail: detail)
    }

    func lastErrorMessage() -> String {
        var message: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        let code = libssh2_session_last_error(handle, &message, &length, 0)
        let text = message.map { String(cString: $0) } ?? "unknown error"
        return "\(text) (libssh2 error \(code))"
    }

    var lastErrorCode: Int32 { libssh2_session_last_errno(handle) }

    /// Bytes read from the host so far.
    var receivedBytes: UInt64 { state.pointee.received }

    /// Call before a channel open starts; `openedChannelID` names the channel once it completed.
    func beginChannelOpen() {
        state.pointee.opened_channel = -1
    }

    /// Our id of the channel the last completed open created; nil if the shim did not see it.
    var openedChannelID: UInt32? {
        let id = state.pointee.opened_channel
        return id >= 0 ? UInt32(truncatingIfNeeded: id) : nil
    }

    /// Whether the host reported an exit status for the channel (asked once per channel).
    func takeExitStatusReport(channel id: UInt32) -> Bool {
        botops_take_exit_status(state, id) != 0
    }

    /// Which way libssh2 last waited on the socket, as poll(2) events.
    var pollEvents: Int16 {
        let directions = libssh2_session_block_directions(handle)
        var events: Int16 = 0
        if directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 { events |= Int16(POLLOUT) }
        if directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0 || events == 0 { events |= Int16(POLLIN) }
        return events
    }

    func configureKeepalive(seconds: Int?) {
        libssh2_keepalive_config(handle, 1, UInt32(seconds ?? 0))
    }

    /// Sends a keepalive when one is due; returns seconds until the next (nil when they are off).
    func sendKeepaliveIfDue() throws -> Int? {
        var secondsToNext: Int32 = 0
        if libssh2_keepalive_send(handle, &secondsToNext) != 0 {
            throw TransportFailure(detail: lastErrorMessage())
        }
        return secondsToNext > 0 ? Int(secondsToNext) : nil
    }

    /// Ends the session without ever waiting on the host: a goodbye is sent only if it fits in the
    /// socket's buffer now, then the socket is shut so that freeing libssh2's channels cannot wait.
    func end(sayingGoodbye: Bool) {
        guard !ended else { return }
        ended = true
        if sayingGoodbye {
            libssh2_session_set_blocking(handle, 0)
            _ = libssh2_session_disconnect_ex(handle, SSH_DISCONNECT_BY_APPLICATION, "botops done", "")
        }
        shutdown(socket, Int32(SHUT_RDWR))
        libssh2_session_set_blocking(handle, 1)
        libssh2_session_set_timeout(handle, 1000)
        libssh2_session_free(handle)
        closeDescriptor(socket)
        state.deallocate()
    }
}

/// The transport failed (socket error, dead host): every command on the connection is affected.
struct TransportFailure: Error {
    let detail: String
}

/// libssh2 error codes that concern one channel; any other failure concerns the whole transport.
func isChannelError(_ code: Int32) -> Bool {
    (LIBSSH2_ERROR_CHANNEL_EOF_SENT...LIBSSH2_ERROR_CHANNEL_OUTOFORDER).contains(code)
        || code == LIBSSH2_ERROR_CHANNEL_WINDOW_FULL || code == LIBSSH2_ERROR_INVAL
}

func isAgain<T: BinaryInteger>(_ code: T) -> Bool { code == LIBSSH2_ERROR_EAGAIN }
