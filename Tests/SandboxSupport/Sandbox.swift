import Foundation
import Remote

/// The sandbox host that `scripts/sandbox up` builds: real sshd, dockerd, cron and the bot app.
/// Its facts come from the `sandbox.env` the script writes.
public struct Sandbox: Sendable {
    public static let directory = ProcessInfo.processInfo.environment["BOTOPS_SANDBOX_DIR"] ?? "/var/lib/botops-sandbox"

    /// Nil when the sandbox was never brought up on this machine.
    public static let current: Sandbox? = {
        guard let text = try? String(contentsOfFile: directory + "/sandbox.env", encoding: .utf8) else { return nil }
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { values[String(parts[0])] = String(parts[1]) }
        }
        return Sandbox(values: values)
    }()

    /// Integration suites run when the sandbox exists, and always under scripts/test (which
    /// sets BOTOPS_REQUIRE_SANDBOX), so a missing sandbox fails CI instead of skipping silently.
    public static var isAvailable: Bool {
        current != nil || ProcessInfo.processInfo.environment["BOTOPS_REQUIRE_SANDBOX"] != nil
    }

    public static func require() throws -> Sandbox {
        guard let current else { throw SandboxMissing() }
        return current
    }

    let values: [String: String]

    public func value(_ key: String) -> String { values[key] ?? "" }
    public var alias: String { value("SANDBOX_ALIAS") }
    public var port: Int { Int(value("SANDBOX_SSH_PORT")) ?? 0 }
    public var sshConfig: String { value("SANDBOX_SSH_CONFIG") }
    public var knownHosts: String { value("SANDBOX_KNOWN_HOSTS") }
    public var key: String { value("SANDBOX_KEY") }
    public var rsaKey: String { value("SANDBOX_RSA_KEY") }
    public var sshdLog: String { value("SANDBOX_SSHD_LOG") }
    public var configFile: String { value("SANDBOX_CONFIG") }
    public var app: String { value("SANDBOX_APP") }

    /// The sandbox's ssh target, resolved from its ssh config like a user's alias.
    /// No ssh-agent unless one is given, so the caller's environment cannot change the outcome.
    public func target(identityFiles: [String]? = nil, knownHostsFile: String? = nil, policy: HostKeyPolicy = .strict,
                       agentSocket: String? = nil) throws -> SSHTarget {
        var target = try SSHTargetResolver(config: try SSHConfig.load(path: sshConfig), agentSocket: agentSocket).resolve(alias)
        if let identityFiles { target.identityFiles = identityFiles }
        if let knownHostsFile { target.knownHostsFile = knownHostsFile }
        target.hostKeyPolicy = policy
        return target
    }
}

public struct SandboxMissing: Error, CustomStringConvertible {
    public var description: String { "no sandbox at \(Sandbox.directory): run scripts/sandbox up (as root) first" }
}

/// A port on 127.0.0.1 where nothing listens (bound, then released).
public func closedLoopbackPort() -> Int {
    let fd = socket(AF_INET, streamSocketType, 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            _ = bind(fd, $0, length)
            _ = getsockname(fd, $0, &length)
        }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A scratch directory removed by the caller.
public func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("botops-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A test's own failure, thrown where a helper cannot go on (shared by the sandbox and pure targets).
public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A TCP server on 127.0.0.1 that answers every connection with a fixed non-SSH banner, then
/// closes: what botops meets when pointed at the wrong port. With an empty banner it accepts and
/// then says nothing, keeping the connection open: a host that hangs during the handshake.
public final class BannerServer: @unchecked Sendable {
    public let port: Int
    private let fd: Int32

    public init(banner: String) throws {
        let fd = socket(AF_INET, streamSocketType, 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound, listen(fd, 8) == 0 else { throw SandboxMissing() }
        port = Int(UInt16(bigEndian: address.sin_port))
        let listener = fd
        let bytes = Array(banner.utf8)
        Thread.detachNewThread {
            while true {
                let client = accept(listener, nil, nil)
                if client < 0 { return }
                if bytes.isEmpty { continue }  // leaked on purpose until the test process ends: the peer must see silence
                _ = bytes.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
                close(client)
            }
        }
    }

    deinit {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }
}
