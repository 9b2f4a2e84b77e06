/// Which host key algorithms botops offers, in which order, as OpenSSH chooses them: without a
/// `HostKeyAlgorithms` setting, the algorithms for key types known_hosts already holds for the host
/// come first, so a host with several keys presents the one that was recorded; with the setting,
/// exactly what it says (`+` appends, `-` removes, `^` puts first). Only what libssh2 supports.
public enum HostKeyAlgorithms {
    /// OpenSSH's default order (without certificates and security keys, which libssh2 lacks).
    static let defaultOrder = [
        "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
        "rsa-sha2-512", "rsa-sha2-256",
    ]

    /// The algorithms that verify keys of `keyType`.
    static func algorithms(forKeyType keyType: String) -> [String] {
        keyType == "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [keyType]
    }

    /// The key type an algorithm's keys have.
    static func keyType(ofAlgorithm algorithm: String) -> String {
        algorithm.hasPrefix("rsa-sha2-") ? "ssh-rsa" : algorithm
    }

    /// The preference list for the handshake.
    /// - Parameters:
    ///   - supported: what this libssh2 can verify.
    ///   - recordedKeyTypes: key types known_hosts holds for the host.
    ///   - configured: the `HostKeyAlgorithms` value from ssh_config, if any.
    public static func preference(supported: [String], recordedKeyTypes: [String], configured: String?) -> [String] {
        let wanted: [String]
        if let configured {
            wanted = assemble(configured, all: defaultOrder + supported.filter { !defaultOrder.contains($0) })
        } else {
            let recordedAlgorithms = recordedKeyTypes.flatMap(algorithms(forKeyType:))
            let known = defaultOrder.filter { recordedAlgorithms.contains($0) }
                + recordedAlgorithms.filter { !defaultOrder.contains($0) }
            wanted = known + defaultOrder.filter { !known.contains($0) }
        }
        return wanted.filter { supported.contains($0) }
    }

    /// A `HostKeyAlgorithms` value applied to the default list, as ssh does: names may be
    /// patterns (`ecdsa-*`), expanded against `all` in list order.
    static func assemble(_ value: String, all: [String]) -> [String] {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        let operation = trimmed.first.flatMap { "+-^".contains($0) ? $0 : nil }
        let list = (operation == nil ? Substring(trimmed) : trimmed.dropFirst())
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let patterns: [String]
        switch operation {
        case "-": return defaultOrder.filter { name in !list.contains { SSHConfig.globMatch(name, pattern: Substring($0)) } }
        case "+": patterns = defaultOrder + list
        case "^": patterns = list + defaultOrder
        default: patterns = list
        }
        var names: [String] = []
        for pattern in patterns {
            for name in all where SSHConfig.globMatch(name, pattern: Substring(pattern)) && !names.contains(name) {
                names.append(name)
            }
        }
        return names
    }
}
