import Foundation

/// Checks the host's key against known_hosts the way OpenSSH does, and chooses the host key
/// algorithms to offer so that a host with several keys presents one that is recorded. Unknown keys
/// are recorded only under `.acceptNew`; changed and revoked keys never.
struct HostKeyVerifier {
    let target: SSHTarget
    let knownHosts: KnownHosts

    init(target: SSHTarget) {
        self.target = target
        // An unreadable file counts as empty, as for ssh: the key is then unknown, and refused.
        knownHosts = (try? KnownHosts.load(path: target.knownHostsFile)) ?? KnownHosts(text: "")
    }

    private var lookupName: String { KnownHosts.lookupName(host: target.hostname, port: target.port) }

    func algorithmPreference(supported: [String]) throws -> [String] {
        let preference = HostKeyAlgorithms.preference(
            supported: supported, recordedKeyTypes: knownHosts.recordedKeyTypes(for: lookupName),
            configured: target.hostKeyAlgorithms)
        if preference.isEmpty {
            throw RemoteError.noUsableHostKeyAlgorithm(host: target.hostname, configured: target.hostKeyAlgorithms ?? "", supported: supported)
        }
        return preference
    }

    /// Returns the key if it is trusted (or newly recorded under `.acceptNew`), or throws.
    func verify(key: [UInt8], fingerprint: String) throws -> HostKeyIdentity {
        let identity = HostKeyIdentity(type: KnownHosts.keyType(of: key) ?? "unknown", fingerprint: fingerprint)
        let file = target.knownHostsFile
        switch knownHosts.verdict(for: key, name: lookupName) {
        case .known:
            return identity
        case .revoked:
            throw RemoteError.revokedHostKey(host: target.hostname, port: target.port, key: identity, knownHostsFile: file)
        case .changed:
            throw RemoteError.changedHostKey(host: target.hostname, port: target.port, key: identity, knownHostsFile: file)
        case .unknown(let recordedTypes):
            guard target.hostKeyPolicy == .acceptNew else {
                throw RemoteError.unknownHostKey(host: target.hostname, port: target.port, key: identity, knownHostsFile: file, recordedTypes: recordedTypes)
            }
            try record(key: key, type: identity.type)
            return identity
        }
    }

    /// Appends the key as ssh does on first contact: `host` or `[host]:port`, type, key.
    private func record(key: [UInt8], type: String) throws {
        let line = "\(lookupName) \(type) \(Data(key).base64EncodedString())\n"
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
}
