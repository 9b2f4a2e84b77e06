import Foundation
import Remote
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A private OpenSSH server for one test: `sshd -D` on a free 127.0.0.1 port with the host keys
/// the test chooses, letting in the sandbox's user with the sandbox's key. Tests that break sshd
/// (freeze a session, kill one, make it drop channels) do it here, never to the shared sandbox.
public final class TestSSHServer: @unchecked Sendable {
    public enum KeyType: String, CaseIterable, Sendable {
        case ed25519, ecdsa, rsa
    }

    public let port: Int
    public let hostKeys: [KeyType]
    /// Scratch space for the test (known_hosts, ssh config), removed by `stop()`.
    public let directory: URL
    public let sandbox: Sandbox
    private let pid: pid_t
    private let stopLock = NSLock()
    private var stopped = false

    /// Starts sshd; `options` are extra sshd_config lines (e.g. `ChannelTimeout session:command=1`).
    /// Starts a server. Making host keys and waiting for the port block: that runs on a thread of
    /// its own, so the cooperative pool (two threads on a 2-CPU machine) keeps running other tests.
    public static func start(hostKeys: [KeyType] = KeyType.allCases, options: [String] = []) async throws -> TestSSHServer {
        try await onOwnThread { Result { try TestSSHServer(hostKeys: hostKeys, options: options) } }.get()
    }

    private init(hostKeys: [KeyType], options: [String]) throws {
        sandbox = try Sandbox.require()
        self.hostKeys = hostKeys
        directory = try temporaryDirectory()
        let hostKeyLines = try hostKeys.map { "HostKey \(try Self.hostKeyPath($0))" }
        var lastLog = ""
        for _ in 0..<5 {
            let port = closedLoopbackPort()
            let config = directory.appendingPathComponent("sshd_config")
            let lines = ["Port \(port)", "ListenAddress 127.0.0.1", "PidFile none"]
                + hostKeyLines
                + ["AuthorizedKeysFile \(Sandbox.directory)/authorized_keys/%u", "PermitRootLogin no",
                   "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no",
                   "LogLevel VERBOSE", "MaxStartups 100:30:200"]
                + options
            try (lines.joined(separator: "\n") + "\n").write(to: config, atomically: true, encoding: .utf8)
            let log = directory.appendingPathComponent("sshd.log")
            let pid = try Self.spawn(["/usr/sbin/sshd", "-D", "-f", config.path, "-E", log.path])
            switch Self.waitUntilListening(port: port, pid: pid) {
            case .listening:
                self.port = port
                self.pid = pid
                return
            case .exited: break  // already reaped; the port was taken, say
            case .silent: Self.end(pid)
            }
            lastLog = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        }
        try? FileManager.default.removeItem(at: directory)
        throw TestServerError(description: "sshd did not start: \(lastLog)")
    }

    deinit {
        stop()
    }

    /// Stops the listener and removes the scratch directory. Sessions end with their clients.
    public func stop() {
        guard stopLock.withLock({ defer { stopped = true }; return !stopped }) else { return }
        Self.end(pid)
        try? FileManager.default.removeItem(at: directory)
    }

    /// `ssh-ed25519 AAAA…`: the public half of one of the server's host keys.
    public func publicKey(_ type: KeyType) throws -> String {
        let text = try String(contentsOfFile: try Self.hostKeyPath(type) + ".pub", encoding: .utf8)
        return text.split(separator: " ").prefix(2).joined(separator: " ")
    }

    /// The known_hosts line `ssh-keyscan` would print for one host key.
    public func knownHostsLine(_ type: KeyType) throws -> String {
        "[127.0.0.1]:\(port) \(try publicKey(type))"
    }

    /// The SHA256 fingerprint of one host key, from `ssh-keygen -lf`.
    public func fingerprint(_ type: KeyType) throws -> String {
        let output = try Self.runTool("/usr/bin/ssh-keygen", ["-lf", try Self.hostKeyPath(type) + ".pub"])
        return output.split(separator: " ").dropFirst().first.map(String.init) ?? ""
    }

    /// Writes a known_hosts file (in the scratch directory) that records these host keys, as
    /// `ssh-keyscan` prints them, and returns its path.
    public func writeKnownHosts(_ types: [KeyType]) throws -> String {
        let path = directory.appendingPathComponent("known_hosts").path
        let lines = try types.map { try knownHostsLine($0) + "\n" }.joined()
        try lines.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Writes an ssh config with alias `test-sshd` for this server and returns its path.
    /// `extra` lines go into the Host block (e.g. `ServerAliveInterval 1`).
    public func writeSSHConfig(knownHosts: String, extra: [String] = []) throws -> String {
        let path = directory.appendingPathComponent("ssh_config").path
        let lines = ["Host test-sshd", "  HostName 127.0.0.1", "  Port \(port)", "  User \(sandbox.value("SANDBOX_USER"))",
                     "  IdentityFile \(sandbox.key)", "  UserKnownHostsFile \(knownHosts)", "  StrictHostKeyChecking yes"]
            + extra.map { "  " + $0 }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The target botops resolves from `writeSSHConfig`.
    public func target(knownHosts: String, extra: [String] = [], policy: HostKeyPolicy = .strict) throws -> SSHTarget {
        let config = try SSHConfig.load(path: try writeSSHConfig(knownHosts: knownHosts, extra: extra))
        return try SSHTargetResolver(config: config, agentSocket: nil).resolve("test-sshd", acceptNewHostKey: policy == .acceptNew)
    }

    /// A directory the remote user can write to, for a command to leave facts in (its $PPID).
    public func sharedDirectory() throws -> URL {
        let url = directory.appendingPathComponent("shared")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        chmod(directory.path, 0o755)
        chmod(url.path, 0o777)
        return url
    }

    /// Checks that `pid` is an sshd session process (`sshd: user@notty`, the parent of the
    /// commands it runs) and returns it, for freezing or killing in a test.
    public static func sessionProcess(_ pid: pid_t) throws -> pid_t {
        let command = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
        guard command.hasPrefix("sshd: ") && command.contains("@notty") else {
            throw TestServerError(description: "process \(pid) is '\(command)', not an sshd session")
        }
        return pid
    }

    /// Waits for a command to write its $PPID into `path` (a file in `sharedDirectory()`).
    public static func waitForPID(in path: String) async throws -> pid_t {
        for _ in 0..<400 {
            if let text = try? String(contentsOfFile: path, encoding: .utf8),
               let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                return pid
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw TestServerError(description: "no pid appeared in \(path)")
    }

    // MARK: - Processes

    private static func hostKeyPath(_ type: KeyType) throws -> String {
        try testHostKeys.get().appendingPathComponent("host_\(type.rawValue)").path
    }

    /// Runs a tool to completion and returns its stdout. (Foundation's Process is avoided: on
    /// Linux its child reaper can stall behind the long-running sshd.)
    fileprivate static func runTool(_ path: String, _ arguments: [String]) throws -> String {
        let output = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: output) }
        let file = output.appendingPathComponent("stdout").path
        let pid = try spawn([path] + arguments, stdout: file)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else {
            throw TestServerError(description: "\(path) \(arguments.joined(separator: " ")) failed with status \(status)")
        }
        return try String(contentsOfFile: file, encoding: .utf8)
    }

    private static func spawn(_ argv: [String], stdout: String = "/dev/null") throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let arguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { arguments.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, argv[0], &actions, nil, arguments, processEnvironment)
        guard status == 0 else { throw TestServerError(description: "cannot start \(argv[0]): \(String(cString: strerror(status)))") }
        return pid
    }

    private static func end(_ pid: pid_t) {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    private enum Startup { case listening, exited, silent }

    private static func waitUntilListening(port: Int, pid: pid_t) -> Startup {
        for _ in 0..<100 {
            var status: Int32 = 0
            guard waitpid(pid, &status, WNOHANG) == 0 else { return .exited }
            let fd = socket(AF_INET, streamSocketType, 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            close(fd)
            if connected { return .listening }
            usleep(50_000)
        }
        return .silent
    }
}

/// Host keys all TestSSHServers of a test process share (RSA keys take a while to make), in a
/// directory removed when the process exits.
private let testHostKeys: Result<URL, Error> = Result {
    let url = testHostKeyDirectory()
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(at: testHostKeyDirectory()) }
    for type in TestSSHServer.KeyType.allCases {
        _ = try TestSSHServer.runTool("/usr/bin/ssh-keygen", ["-q", "-t", type.rawValue, "-N", "", "-C", "test-sshd", "-f", url.appendingPathComponent("host_\(type.rawValue)").path])
    }
    return url
}

private func testHostKeyDirectory() -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("botops-test-hostkeys-\(getpid())")
}

public struct TestServerError: Error, CustomStringConvertible {
    public let description: String

    public init(description: String) {
        self.description = description
    }
}
