import CLibSSH2
import Foundation

/// Checks the server's host key against known_hosts the way OpenSSH does (hashed entries and
/// `[host]:port` included). Unknown keys are recorded only under `.acceptNew`; changed keys never.
struct HostKeyVerifier {
    let session: OpaquePointer
    let target: SSHTarget

    /// Returns the SHA256 fingerprint of a key that is trusted, or throws.
    func verify() throws -> String {
        var keyLength = 0
        var keyType: Int32 = 0
        guard let key = libssh2_session_hostkey(session, &keyLength, &keyType) else {
            throw RemoteError.sshFailure(host: target.hostname, operation: "host key exchange", detail: "server sent no host key")
        }
        let fingerprint = Self.fingerprint(session: session)
        guard let knownHosts = libssh2_knownhost_init(session) else {
            throw RemoteError.sshFailure(host: target.hostname, operation: "known_hosts setup", detail: "libssh2_knownhost_init failed")
        }
        defer { libssh2_knownhost_free(knownHosts) }

        // Line by line, so one entry libssh2 cannot parse (e.g. a security-key type) does not hide the rest.
        let lines = (try? String(contentsOfFile: target.knownHostsFile, encoding: .utf8)) ?? ""
        for line in lines.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            let text = String(line)
            _ = libssh2_knownhost_readline(knownHosts, text, text.utf8.count, LIBSSH2_KNOWNHOST_FILE_OPENSSH)
        }

        let typeMask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | Self.knownHostKeyBits(keyType)
        let outcome = libssh2_knownhost_checkp(knownHosts, target.hostname, Int32(target.port), key, keyLength, Int32(typeMask), nil)
        switch outcome {
        case LIBSSH2_KNOWNHOST_CHECK_MATCH:
            return fingerprint
        case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
            throw RemoteError.changedHostKey(host: target.hostname, port: target.port, fingerprint: fingerprint, knownHostsFile: target.knownHostsFile)
        default:
            guard target.hostKeyPolicy == .acceptNew else {
                throw RemoteError.unknownHostKey(host: target.hostname, port: target.port, fingerprint: fingerprint, knownHostsFile: target.knownHostsFile)
            }
            try record(key: Data(bytes: key, count: keyLength), type: keyType)
            return fingerprint
        }
    }

    private func record(key: Data, type: Int32) throws {
        let hostField = target.port == 22 ? target.hostname : "[\(target.hostname)]:\(target.port)"
        let line = "\(hostField) \(Self.keyTypeName(type)) \(key.base64EncodedString())\n"
        let url = URL(fileURLWithPath: target.knownHostsFile)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            if !FileManager.default.fileExists(atPath: url.path) {
                _ = FileManager.default.createFile(atPath: url.path, contents: nil, attributes: [.posixPermissions: 0o600])
            }
            let handle = try FileHandle(forWritingTo: url)
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(line.utf8))
        } catch {
            throw RemoteError.sshFailure(host: target.hostname, operation: "recording the host key", detail: "cannot write \(url.path): \(error.localizedDescription)")
        }
    }

    static func fingerprint(session: OpaquePointer) -> String {
        guard let hash = libssh2_hostkey_hash(session, LIBSSH2_HOSTKEY_HASH_SHA256) else { return "SHA256:?" }
        let digest = Data(bytes: hash, count: 32).base64EncodedString()
        return "SHA256:" + digest.replacing("=", with: "")
    }

    private static func knownHostKeyBits(_ type: Int32) -> Int32 {
        switch type {
        case LIBSSH2_HOSTKEY_TYPE_RSA: return LIBSSH2_KNOWNHOST_KEY_SSHRSA
        case LIBSSH2_HOSTKEY_TYPE_DSS: return LIBSSH2_KNOWNHOST_KEY_SSHDSS
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return LIBSSH2_KNOWNHOST_KEY_ECDSA_256
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return LIBSSH2_KNOWNHOST_KEY_ECDSA_384
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return LIBSSH2_KNOWNHOST_KEY_ECDSA_521
        case LIBSSH2_HOSTKEY_TYPE_ED25519: return LIBSSH2_KNOWNHOST_KEY_ED25519
        default: return LIBSSH2_KNOWNHOST_KEY_UNKNOWN
        }
    }

    private static func keyTypeName(_ type: Int32) -> String {
        switch type {
        case LIBSSH2_HOSTKEY_TYPE_RSA: return "ssh-rsa"
        case LIBSSH2_HOSTKEY_TYPE_DSS: return "ssh-dss"
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return "ecdsa-sha2-nistp256"
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return "ecdsa-sha2-nistp384"
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return "ecdsa-sha2-nistp521"
        default: return "ssh-ed25519"
        }
    }
}
