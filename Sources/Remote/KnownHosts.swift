import CLibSSH2
import Foundation

/// An OpenSSH known_hosts file, read the way `ssh` reads it: comma-separated host patterns
/// (`*`, `?`, `!negation`) or hashed names (`|1|salt|hash`), `[host]:port` for ports other than 22,
/// and the `@revoked` and `@cert-authority` markers. Lines it cannot read are skipped, as ssh does.
public struct KnownHosts: Sendable {
    public enum Marker: Sendable, Equatable {
        case none
        case revoked
        /// Signs host certificates; botops (libssh2) does not use certificates.
        case certificateAuthority
    }

    public struct Entry: Sendable, Equatable {
        public var marker: Marker
        var hosts: Hosts
        /// The key type named inside the key itself, e.g. `ssh-ed25519`.
        public var keyType: String
        /// The public key blob, as the host sends it during the handshake.
        public var key: [UInt8]
    }

    enum Hosts: Sendable, Equatable {
        case patterns([String])
        case hashed(salt: [UInt8], hash: [UInt8])
    }

    public let entries: [Entry]

    public init(text: String) {
        entries = text.split(whereSeparator: \.isNewline).compactMap { Self.parse(line: $0) }
    }

    /// Reads `path`; a missing file has no entries, as for ssh.
    public static func load(path: String) throws -> KnownHosts {
        guard FileManager.default.fileExists(atPath: path) else { return KnownHosts(text: "") }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return KnownHosts(text: String(decoding: data, as: UTF8.self))
    }

    /// The name ssh looks a host up by: `host` on port 22, `[host]:port` on any other.
    public static func lookupName(host: String, port: Int) -> String {
        port == 22 ? host.lowercased() : "[\(host.lowercased())]:\(port)"
    }

    /// Entries whose host field matches `name` (a lookup name), markers included.
    public func entries(for name: String) -> [Entry] {
        entries.filter { $0.hosts.match(name) }
    }

    /// Key types recorded for `name` as keys the host may use (not revoked, not CAs), in file order.
    public func recordedKeyTypes(for name: String) -> [String] {
        var types: [String] = []
        for entry in entries(for: name) where entry.marker == .none && !types.contains(entry.keyType) {
            types.append(entry.keyType)
        }
        return types
    }

    /// What known_hosts says about `key`, offered by the host looked up as `name`.
    public func verdict(for key: [UInt8], name: String) -> Verdict {
        let matching = entries(for: name)
        if matching.contains(where: { $0.marker == .revoked && $0.key == key }) { return .revoked }
        let usable = matching.filter { $0.marker == .none }
        if usable.contains(where: { $0.key == key }) { return .known }
        let type = Self.keyType(of: key) ?? ""
        if usable.contains(where: { $0.keyType == type }) { return .changed }
        return .unknown(recordedTypes: recordedKeyTypes(for: name))
    }

    public enum Verdict: Sendable, Equatable {
        case known
        case revoked
        /// A key of the offered type is recorded for this host, and it is another one.
        case changed
        /// No key of the offered type is recorded; `recordedTypes` are the types that are.
        case unknown(recordedTypes: [String])
    }

    /// The type name a key blob starts with (an SSH string).
    public static func keyType(of key: [UInt8]) -> String? {
        guard key.count >= 4 else { return nil }
        let length = key[0..<4].reduce(0) { $0 << 8 | Int($1) }
        guard length > 0, length <= key.count - 4 else { return nil }
        return String(bytes: key[4..<4 + length], encoding: .utf8)
    }

    static func parse(line: Substring) -> Entry? {
        var fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).makeIterator()
        guard var first = fields.next(), !first.hasPrefix("#") else { return nil }
        var marker = Marker.none
        if first.hasPrefix("@") {
            switch first {
            case "@revoked": marker = .revoked
            case "@cert-authority": marker = .certificateAuthority
            default: return nil
            }
            guard let next = fields.next() else { return nil }
            first = next
        }
        guard let typeField = fields.next(), let keyField = fields.next(),
              let blob = Data(base64Encoded: String(keyField)).map(Array.init),
              let blobType = keyType(of: blob), blobType == typeField,
              let hosts = Hosts(field: first)
        else { return nil }
        return Entry(marker: marker, hosts: hosts, keyType: blobType, key: blob)
    }
}

extension KnownHosts.Hosts {
    init?(field: Substring) {
        if field.hasPrefix("|1|") {
            let parts = field.dropFirst(3).split(separator: "|", omittingEmptySubsequences: false)
            guard parts.count == 2,
                  let salt = Data(base64Encoded: String(parts[0])), salt.count == 20,
                  let hash = Data(base64Encoded: String(parts[1])), hash.count == 20
            else { return nil }
            self = .hashed(salt: Array(salt), hash: Array(hash))
        } else {
            self = .patterns(field.split(separator: ",").map(String.init))
        }
    }

    func match(_ name: String) -> Bool {
        switch self {
        case .patterns(let patterns):
            return SSHConfig.matches(name, patterns: patterns)
        case let .hashed(salt, hash):
            return KnownHosts.hashedName(name, salt: salt) == hash
        }
    }
}

extension KnownHosts {
    /// HMAC-SHA1 of `name` keyed with `salt`: how ssh's HashKnownHosts hides names.
    static func hashedName(_ name: String, salt: [UInt8]) -> [UInt8]? {
        var digest = [UInt8](repeating: 0, count: 20)
        let bytes = Array(name.utf8)
        let ok = botops_hmac_sha1(salt, Int32(salt.count), bytes, bytes.count, &digest)
        return ok != 0 ? digest : nil
    }
}
