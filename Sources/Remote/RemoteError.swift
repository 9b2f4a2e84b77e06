/// Everything that can go wrong reaching a host or running a command there. Each message says
/// what happened and what to do about it.
public enum RemoteError: Error, Equatable, CustomStringConvertible {
    case hostNotFound(host: String, detail: String)
    case connectionRefused(host: String, port: Int)
    case connectTimedOut(host: String, port: Int, seconds: Double)
    case networkError(host: String, port: Int, detail: String)
    case notSSHServer(host: String, port: Int, detail: String)
    /// `recordedTypes`: the key types known_hosts holds for the host (none of them was offered).
    case unknownHostKey(host: String, port: Int, key: HostKeyIdentity, knownHostsFile: String, recordedTypes: [String])
    case changedHostKey(host: String, port: Int, key: HostKeyIdentity, knownHostsFile: String)
    case revokedHostKey(host: String, port: Int, key: HostKeyIdentity, knownHostsFile: String)
    case noUsableHostKeyAlgorithm(host: String, configured: String, supported: [String])
    case authenticationFailed(user: String, host: String, tried: [String], refusedRSAKeys: [String])
    case sshFailure(host: String, operation: String, detail: String)
    /// `commands`: those that were running, whose outcome is unknown.
    case connectionLost(host: String, detail: String, commands: [String])
    /// `close()` came while the command was still running.
    case closedWhileRunning(host: String, command: String)
    case commandTimedOut(command: String, seconds: Double)
    case localSpawnFailed(command: String, detail: String)

    /// True when the host could not be reached or would not let us in (exit code 3).
    public var isUnreachable: Bool {
        switch self {
        case .commandTimedOut, .localSpawnFailed, .closedWhileRunning: return false
        default: return true
        }
    }

    public var description: String {
        switch self {
        case let .hostNotFound(host, detail):
            return "cannot resolve host '\(host)': \(detail). Check the name, or define it as a Host alias in your ssh config."
        case let .connectionRefused(host, port):
            return "connection refused by \(host):\(port): nothing is listening there. Check that sshd runs and the port is right (Port in ssh config, or host:port)."
        case let .connectTimedOut(host, port, seconds):
            return "no answer from \(host):\(port) within \(formatSeconds(seconds)). Check the host is up and reachable; raise ConnectTimeout if it is slow."
        case let .networkError(host, port, detail):
            return "cannot connect to \(host):\(port): \(detail)."
        case let .notSSHServer(host, port, detail):
            return "\(host):\(port) accepted the connection but did not speak SSH (\(detail)). Is this the right port?"
        case let .unknownHostKey(host, port, key, file, recorded):
            return unknownHostKeyMessage(host: host, port: port, key: key, file: file, recordedTypes: recorded)
        case let .changedHostKey(host, port, key, file):
            return """
                HOST KEY CHANGED for \(host):\(port): it now presents \(key), and \(file) records a different \
                \(key.displayType) key for it. This can mean someone is intercepting the connection. If the host was \
                really rebuilt, remove the old entry with: ssh-keygen -R '\(KnownHosts.lookupName(host: host, port: port))' -f \(file)
                """
        case let .revokedHostKey(host, port, key, file):
            return """
                the host key \(host):\(port) presents (\(key)) is marked @revoked in \(file); refusing to connect. \
                A revoked key was retired or stolen: someone may be impersonating the host. Get the host's current key from its administrator.
                """
        case let .noUsableHostKeyAlgorithm(host, configured, supported):
            return """
                HostKeyAlgorithms '\(configured)' in the ssh config for \(host) leaves no algorithm botops can use; \
                libssh2 here supports \(supported.joined(separator: ", ")). Name one of them (e.g. HostKeyAlgorithms ^ssh-ed25519).
                """
        case let .authenticationFailed(user, host, tried, refusedRSA):
            var message = "authentication as \(user) on \(host) failed"
            message += tried.isEmpty ? ": no ssh-agent identity and no key file to try." : " (tried: \(tried.joined(separator: ", ")))."
            if !refusedRSA.isEmpty {
                message += " RSA key \(refusedRSA.joined(separator: ", ")) was refused: libssh2 here signs RSA keys with SHA-1 only (ssh-rsa), which OpenSSH 8.8 and later refuse. Use an ed25519 key (ssh-keygen -t ed25519) and add it to the host's authorized_keys."
            } else {
                message += " Check User and IdentityFile in your ssh config and the host's authorized_keys."
            }
            return message
        case let .sshFailure(host, operation, detail):
            return "ssh \(operation) with \(host) failed: \(detail)."
        case let .connectionLost(host, detail, commands):
            var message = "connection lost to \(host): \(detail)."
            if !commands.isEmpty {
                message += " Commands in flight, which may or may not have finished there: \(commands.map(quotedCommand).joined(separator: ", "))."
            }
            return message + " Re-run; if it keeps happening, check the network and the host's sshd log."
        case let .closedWhileRunning(host, command):
            return "the connection to \(host) was closed while this command was still running, so how it ended is unknown: \(quotedCommand(command))"
        case let .commandTimedOut(command, seconds):
            return "command did not finish within \(formatSeconds(seconds)) and was abandoned: \(command)"
        case let .localSpawnFailed(command, detail):
            return "cannot start /bin/sh for '\(command)': \(detail)."
        }
    }
}

/// A host key as messages name it: its type and SHA256 fingerprint.
public struct HostKeyIdentity: Sendable, Equatable, CustomStringConvertible {
    /// The SSH name of the key type, e.g. `ssh-ed25519`.
    public var type: String
    public var fingerprint: String

    public init(type: String, fingerprint: String) {
        self.type = type
        self.fingerprint = fingerprint
    }

    /// `ED25519`, `ECDSA`, `RSA`: as ssh prints key types.
    public var displayType: String { shortType.uppercased() }

    /// The type as `ssh-keygen -t` / `ssh-keyscan -t` and the host's key file names spell it.
    public var shortType: String { Self.shortType(of: type) }

    public var description: String { "\(displayType) key \(fingerprint)" }

    static func shortType(of type: String) -> String {
        switch type {
        case "ssh-rsa": return "rsa"
        case "ssh-dss": return "dsa"
        case let ecdsa where ecdsa.hasPrefix("ecdsa-"): return "ecdsa"
        default: return type.hasPrefix("ssh-") ? String(type.dropFirst(4)) : type
        }
    }
}

/// libssh2 1.10 verifies RSA host keys only with SHA-1 signatures (ssh-rsa), which OpenSSH 8.8
/// and later no longer make; DSA host keys OpenSSH 7.0 and later no longer offer.
let hostKeyTypesBotopsCannotVerify: Set<String> = ["ssh-rsa", "ssh-dss"]

private func unknownHostKeyMessage(host: String, port: Int, key: HostKeyIdentity, file: String, recordedTypes: [String]) -> String {
    let compare = "the fingerprint with the host's (ssh-keygen -lf /etc/ssh/ssh_host_\(key.shortType)_key.pub on the host)"
    let recorded = recordedTypes.map { HostKeyIdentity.shortType(of: $0).uppercased() }.joined(separator: " and ")
    if recordedTypes.isEmpty {
        return """
            host key for \(host):\(port) is not known (\(key)); refusing to connect. Compare \(compare), \
            then re-run with --accept-new-host-key to record it in \(file).
            """
    }
    if recordedTypes.allSatisfy(hostKeyTypesBotopsCannotVerify.contains) {
        let portOption = port == 22 ? "" : "-p \(port) "
        return """
            \(file) holds only \(recorded) host keys for \(host):\(port), which botops cannot verify: libssh2 1.10 checks \
            RSA host keys only with SHA-1 signatures, which OpenSSH 8.8 and later no longer make (and DSA host keys are \
            obsolete). The host also offers \(key). Compare \(compare), then record it: \
            ssh-keyscan -t \(key.shortType) \(portOption)\(host) >> \(file)   (or re-run with --accept-new-host-key).
            """
    }
    return """
        host key for \(host):\(port) is not known: the host offered \(key), and \(file) holds only \(recorded) keys \
        for it, which the host no longer offers. If it was rebuilt or reconfigured, compare \(compare), then re-run \
        with --accept-new-host-key to record it.
        """
}

/// A command as messages quote it: on one line, shortened when long.
func quotedCommand(_ command: String) -> String {
    let oneLine = command.split(whereSeparator: \.isNewline).joined(separator: "; ")
    return "`" + (oneLine.count > 120 ? oneLine.prefix(119) + "…" : oneLine) + "`"
}

func formatSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\(seconds) s"
}
