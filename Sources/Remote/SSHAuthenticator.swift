import CLibSSH2
import Foundation

/// Public-key authentication: ssh-agent identities first (SSH_AUTH_SOCK or IdentityAgent), then key
/// files. Like ssh without IdentitiesOnly, every agent key is offered; a server with a low
/// MaxAuthTries may stop before the key files are reached.
struct SSHAuthenticator {
    let session: OpaquePointer
    let user: String
    let host: String

    func authenticate(identityFiles: [String], agentSocket: String?) throws {
        var tried: [String] = []
        var refusedRSA: [String] = []
        // Asking for the method list also succeeds outright when the server allows "none".
        _ = libssh2_userauth_list(session, user, UInt32(user.utf8.count))
        if libssh2_userauth_authenticated(session) != 0 { return }

        if let agentSocket, authenticateWithAgent(at: agentSocket, tried: &tried) {
            return
        }
        for path in identityFiles where FileManager.default.isReadableFile(atPath: path) {
            let publicKey = path + ".pub"
            let code = libssh2_userauth_publickey_fromfile_ex(
                session, user, UInt32(user.utf8.count),
                FileManager.default.fileExists(atPath: publicKey) ? publicKey : nil, path, nil)
            if code == 0 { return }
            if code == LIBSSH2_ERROR_SOCKET_DISCONNECT || code == LIBSSH2_ERROR_SOCKET_RECV {
                throw RemoteError.connectionLost(host: host, detail: "server closed the connection during authentication", commands: [])
            }
            tried.append(path)
            if KeyFile.isRSA(path) { refusedRSA.append(path) }
        }
        throw RemoteError.authenticationFailed(user: user, host: host, tried: tried, refusedRSAKeys: refusedRSA)
    }

    private func authenticateWithAgent(at socket: String, tried: inout [String]) -> Bool {
        guard let agent = libssh2_agent_init(session) else { return false }
        defer { libssh2_agent_free(agent) }
        libssh2_agent_set_identity_path(agent, socket)
        guard libssh2_agent_connect(agent) == 0 else { return false }
        defer { libssh2_agent_disconnect(agent) }
        guard libssh2_agent_list_identities(agent) == 0 else { return false }

        var previous: UnsafeMutablePointer<libssh2_agent_publickey>?
        var identity: UnsafeMutablePointer<libssh2_agent_publickey>?
        while libssh2_agent_get_identity(agent, &identity, previous) == 0, let current = identity {
            if libssh2_agent_userauth(agent, user, current) == 0 { return true }
            tried.append("agent:" + (current.pointee.comment.map { String(cString: $0) } ?? "key"))
            previous = current
        }
        return false
    }
}

/// Reads just enough of a private key file to tell its type.
enum KeyFile {
    static func isRSA(_ path: String) -> Bool {
        if let publicKey = try? String(contentsOfFile: path + ".pub", encoding: .utf8) {
            return publicKey.hasPrefix("ssh-rsa ")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return false }
        if text.contains("BEGIN RSA PRIVATE KEY") { return true }
        // OpenSSH format: the base64 body names the public key algorithm near its start.
        let body = text.split(whereSeparator: \.isNewline).filter { !$0.hasPrefix("-----") }.joined()
        guard let data = Data(base64Encoded: String(body.prefix(400 / 3 * 4))) else { return false }
        return data.range(of: Data("ssh-rsa".utf8)) != nil
    }
}
