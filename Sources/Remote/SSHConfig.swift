import Foundation

/// Where and how to connect, after ssh_config resolution.
public struct SSHTarget: Sendable, Equatable {
    public var alias: String
    public var hostname: String
    public var port: Int
    public var user: String
    public var identityFiles: [String]
    /// ssh-agent socket to try before the key files; nil for none.
    public var agentSocket: String?
    public var knownHostsFile: String
    public var hostKeyPolicy: HostKeyPolicy
    public var connectTimeout: Double
    /// Seconds of silence from the host before a keepalive asks it to answer; 0 turns keepalives
    /// and dead-peer detection off, as in ssh.
    public var serverAliveInterval: Int
    /// Unanswered keepalives before the connection counts as lost.
    public var serverAliveCountMax: Int
    /// The `HostKeyAlgorithms` setting, if the ssh config has one.
    public var hostKeyAlgorithms: String?

    public var displayName: String { "\(user)@\(hostname):\(port)" }
}

public enum HostKeyPolicy: Sendable, Equatable {
    /// Unknown and changed keys are both refused.
    case strict
    /// Unknown keys are recorded; a changed key is still refused.
    case acceptNew
}

/// A parsed OpenSSH client config: `Host` blocks with patterns, first value wins (as in ssh).
/// `Match` blocks are skipped: their conditions need state botops does not have.
public struct SSHConfig: Sendable {
    struct Block: Sendable {
        var patterns: [String]
        var options: [(key: String, value: String)]
    }

    var blocks: [Block]

    public init(text: String) {
        var blocks = [Block(patterns: ["*"], options: [])]
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            guard let (key, value) = Self.parseLine(Substring(rawLine)) else { continue }
            switch key {
            case "host":
                blocks.append(Block(patterns: value.split(separator: " ").map(String.init), options: []))
            case "match":
                blocks.append(Block(patterns: [], options: []))
            default:
                blocks[blocks.count - 1].options.append((key, value))
            }
        }
        self.blocks = blocks
    }

    /// Reads `path`; a missing file is an empty config, as for ssh.
    public static func load(path: String) throws -> SSHConfig {
        guard FileManager.default.fileExists(atPath: path) else { return SSHConfig(text: "") }
        return SSHConfig(text: try String(contentsOfFile: path, encoding: .utf8))
    }

    /// Splits `Keyword value`, `Keyword=value` and `Keyword "quoted value"`; nil for blanks and comments.
    private static func parseLine(_ line: Substring) -> (String, String)? {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { return nil }
        guard let split = trimmed.firstIndex(where: { $0 == " " || $0 == "\t" || $0 == "=" }) else {
            return (trimmed.lowercased(), "")
        }
        let key = trimmed[..<split].lowercased()
        var value = trimmed[split...].drop { $0 == " " || $0 == "\t" || $0 == "=" }
            .trimmingCharacters(in: .whitespaces)
        if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
            value = String(value.dropFirst().dropLast())
        }
        return (key, value)
    }

    /// The options that apply to `alias`, first occurrence winning; `identityfile` accumulates.
    public func options(for alias: String) -> [String: [String]] {
        var result: [String: [String]] = [:]
        for block in blocks where Self.matches(alias, patterns: block.patterns) {
            for (key, value) in block.options {
                if key == "identityfile" {
                    result[key, default: []].append(value)
                } else if result[key] == nil {
                    result[key] = [value]
                }
            }
        }
        return result
    }

    /// ssh semantics: a negated pattern that matches excludes the block; otherwise any positive match.
    static func matches(_ host: String, patterns: [String]) -> Bool {
        var matched = false
        for pattern in patterns {
            if pattern.hasPrefix("!") {
                if globMatch(host, pattern: pattern.dropFirst()) { return false }
            } else if globMatch(host, pattern: Substring(pattern)) {
                matched = true
            }
        }
        return matched
    }

    static func globMatch(_ text: String, pattern: Substring) -> Bool {
        let text = Array(text.lowercased().utf8)
        let pattern = Array(pattern.lowercased().utf8)
        var t = 0, p = 0, starP = -1, starT = 0
        while t < text.count {
            if p < pattern.count, pattern[p] == UInt8(ascii: "?") || pattern[p] == text[t] {
                t += 1; p += 1
            } else if p < pattern.count, pattern[p] == UInt8(ascii: "*") {
                starP = p; starT = t; p += 1
            } else if starP >= 0 {
                p = starP + 1; starT += 1; t = starT
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }
}

/// Turns what the user typed (`alias`, `user@host`, `user@host:port`, `[::1]:22`) into a target.
public struct SSHTargetResolver: Sendable {
    public var config: SSHConfig
    public var homeDirectory: String
    public var localUser: String
    /// The caller's SSH_AUTH_SOCK.
    public var agentSocket: String?

    public init(config: SSHConfig, homeDirectory: String = NSHomeDirectory(),
                localUser: String = ProcessInfo.processInfo.environment["USER"] ?? "root",
                agentSocket: String? = ProcessInfo.processInfo.environment["SSH_AUTH_SOCK"]) {
        self.config = config
        self.homeDirectory = homeDirectory
        self.localUser = localUser
        self.agentSocket = agentSocket
    }

    public func resolve(_ spec: String, acceptNewHostKey: Bool = false) throws -> SSHTarget {
        let (explicitUser, alias, explicitPort) = try Self.split(spec)
        let options = config.options(for: alias)
        func first(_ key: String) -> String? { options[key]?.first }

        let hostname = first("hostname").map { $0.replacing("%h", with: alias) } ?? alias
        let user = explicitUser ?? first("user") ?? localUser
        let port = try explicitPort ?? first("port").map { try Self.port($0, source: "Port in ssh config") } ?? 22
        let tokens = ["%d": homeDirectory, "%h": hostname, "%u": localUser, "%r": user, "%p": String(port), "%n": alias]
        func expand(_ path: String) -> String {
            var result = path
            if result.hasPrefix("~/") { result = homeDirectory + result.dropFirst() }
            for (token, value) in tokens { result = result.replacing(token, with: value) }
            return result.replacing("%%", with: "%")
        }

        let identityFiles = options["identityfile"].map { $0.map(expand) }
            ?? ["id_ed25519", "id_ecdsa", "id_rsa"].map { "\(homeDirectory)/.ssh/\($0)" }
        // IdentityAgent as ssh reads it: none, SSH_AUTH_SOCK (the default), or a socket path.
        let agent: String? = switch first("identityagent") {
        case nil, "SSH_AUTH_SOCK"?: agentSocket
        case "none"?: nil
        case let path?: expand(path.hasPrefix("$") ? ProcessInfo.processInfo.environment[String(path.dropFirst())] ?? "" : path)
        }
        let knownHosts = first("userknownhostsfile").map { expand(String($0.split(separator: " ")[0])) }
            ?? "\(homeDirectory)/.ssh/known_hosts"
        let strict = first("stricthostkeychecking")?.lowercased()
        let policy: HostKeyPolicy = acceptNewHostKey || strict == "accept-new" || strict == "no" || strict == "off"
            ? .acceptNew : .strict
        let connectTimeout = first("connecttimeout").flatMap(Double.init) ?? 10
        let aliveInterval = try first("serveraliveinterval").map { value in
            guard let seconds = Self.seconds(value) else { throw SSHTargetError.badValue(key: "ServerAliveInterval", value: value, expected: "seconds, or a time such as 30s or 1m") }
            return seconds
        } ?? Self.defaultServerAliveInterval
        let aliveCountMax = try first("serveralivecountmax").map { value in
            guard let count = Int(value), count >= 0 else { throw SSHTargetError.badValue(key: "ServerAliveCountMax", value: value, expected: "a whole number, 0 or more") }
            return count
        } ?? Self.defaultServerAliveCountMax

        return SSHTarget(
            alias: alias, hostname: hostname, port: port, user: user, identityFiles: identityFiles,
            agentSocket: agent.flatMap { $0.isEmpty ? nil : $0 }, knownHostsFile: knownHosts, hostKeyPolicy: policy, connectTimeout: connectTimeout,
            serverAliveInterval: aliveInterval, serverAliveCountMax: aliveCountMax, hostKeyAlgorithms: first("hostkeyalgorithms"))
    }

    /// Unlike ssh (which sends no keepalives unless told), botops notices a dead host by default:
    /// a keepalive after 15 s of silence, and the connection counts as lost after 3 unanswered
    /// ones, within about a minute.
    public static let defaultServerAliveInterval = 15
    public static let defaultServerAliveCountMax = 3

    /// An ssh_config time: `90`, `90s`, `1m30s`, `2h` (units s, m, h, d, w, either case). Nil
    /// for anything else, or for more than a year.
    static func seconds(_ text: String) -> Int? {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800]
        let limit = 31_536_000
        var total = 0
        var number: Int?
        for character in text.lowercased() {
            if character.isASCII, let digit = character.wholeNumberValue {
                let value = (number ?? 0) * 10 + digit
                guard value <= limit else { return nil }
                number = value
            } else if let unit = units[character], let value = number {
                total += value * unit
                number = nil
                guard total <= limit else { return nil }
            } else {
                return nil
            }
        }
        guard !text.isEmpty else { return nil }
        total += number ?? 0
        return total <= limit ? total : nil
    }

    static func split(_ spec: String) throws -> (user: String?, host: String, port: Int?) {
        var rest = Substring(spec)
        var user: String?
        if let at = rest.lastIndex(of: "@") {
            user = String(rest[..<at])
            rest = rest[rest.index(after: at)...]
        }
        var port: Int?
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { port = try self.port(String(after.dropFirst()), source: spec) }
            rest = rest[rest.index(after: rest.startIndex)..<close]
        } else if rest.filter({ $0 == ":" }).count == 1, let colon = rest.firstIndex(of: ":") {
            port = try self.port(String(rest[rest.index(after: colon)...]), source: spec)
            rest = rest[..<colon]
        }
        guard !rest.isEmpty, user.map({ !$0.isEmpty }) ?? true else {
            throw SSHTargetError.malformed(spec)
        }
        return (user, String(rest), port)
    }

    static func port(_ text: String, source: String) throws -> Int {
        guard let port = Int(text), (1...65535).contains(port) else {
            throw SSHTargetError.badPort(text, source: source)
        }
        return port
    }
}

public enum SSHTargetError: Error, Equatable, CustomStringConvertible {
    case malformed(String)
    case badPort(String, source: String)
    case badValue(key: String, value: String, expected: String)

    public var description: String {
        switch self {
        case .malformed(let spec):
            return "host '\(spec)' is not valid: use an ssh config alias, host, user@host or user@host:port."
        case let .badPort(text, source):
            return "port '\(text)' in '\(source)' is not a number from 1 to 65535."
        case let .badValue(key, value, expected):
            return "\(key) '\(value)' in the ssh config is not valid: expected \(expected)."
        }
    }
}
