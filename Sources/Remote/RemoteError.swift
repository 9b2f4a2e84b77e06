/// Everything that can go wrong reaching a host or running a command there. Each message says
/// what happened and what to do about it.
public enum RemoteError: Error, Equatable, CustomStringConvertible {
    case hostNotFound(host: String, detail: String)
    case connectionRefused(host: String, port: Int)
    case connectTimedOut(host: String, port: Int, seconds: Double)
    case networkError(host: String, port: Int, detail: String)
    case notSSHServer(host: String, port: Int, detail: String)
    case unknownHostKey(host: String, port: Int, fingerprint: String, knownHostsFile: String)
    case changedHostKey(host: String, port: Int, fingerprint: String, knownHostsFile: String)
    case authenticationFailed(user: String, host: String, tried: [String], refusedRSAKeys: [String])
    case sshFailure(host: String, operation: String, detail: String)
    case connectionLost(host: String, detail: String)
    case commandTimedOut(command: String, seconds: Double)
    case localSpawnFailed(command: String, detail: String)

    /// True when the host could not be reached or would not let us in (exit code 3).
    public var isUnreachable: Bool {
        switch self {
        case .commandTimedOut, .localSpawnFailed: return false
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
        case let .unknownHostKey(host, port, fingerprint, file):
            return """
                host key for \(host):\(port) is not known (\(fingerprint)); refusing to connect. \
                Compare the fingerprint with the host's (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the host), \
                then re-run with --accept-new-host-key to record it in \(file).
                """
        case let .changedHostKey(host, port, fingerprint, file):
            return """
                HOST KEY CHANGED for \(host):\(port): it now presents \(fingerprint), which does not match \(file). \
                This can mean someone is intercepting the connection. If the host was really rebuilt, remove the old \
                entry with: ssh-keygen -R '\(port == 22 ? host : "[\(host)]:\(port)")' -f \(file)
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
        case let .connectionLost(host, detail):
            return "connection to \(host) lost: \(detail). Re-run; if it keeps happening, check the host's sshd log."
        case let .commandTimedOut(command, seconds):
            return "command did not finish within \(formatSeconds(seconds)) and was abandoned: \(command)"
        case let .localSpawnFailed(command, detail):
            return "cannot start /bin/sh for '\(command)': \(detail)."
        }
    }
}

/// A duration as (fractional) seconds.
public func totalSeconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func formatSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\(seconds) s"
}
