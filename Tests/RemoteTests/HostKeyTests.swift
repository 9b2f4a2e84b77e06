import Foundation
import Remote
import SandboxSupport
import Testing

/// Host keys against a real sshd that offers ed25519, ecdsa and rsa host keys, as EC2 hosts do,
/// with known_hosts files written by the real `ssh` and `ssh-keyscan`.
@Suite(.enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct HostKeyTests {
    let server: TestSSHServer
    let knownHosts: String

    init() async throws {
        server = try await TestSSHServer.start(hostKeys: [.ed25519, .ecdsa, .rsa])
        knownHosts = server.directory.appendingPathComponent("known_hosts").path
    }

    func connect(extra: [String] = [], policy: HostKeyPolicy = .strict) async throws -> SSHConnection {
        try await SSHConnection.connect(to: try server.target(knownHosts: knownHosts, extra: extra, policy: policy))
    }

    func writeKnownHosts(_ lines: [String]) throws {
        try (lines.joined(separator: "\n") + "\n").write(toFile: knownHosts, atomically: true, encoding: .utf8)
    }

    /// Lets the real ssh client meet the host for the first time and write known_hosts its way.
    func recordWithSSH(algorithm: String, hashed: Bool) async throws {
        let sandbox = server.sandbox
        let result = try await LocalHost().run(shellCommand([
            "ssh", "-F", "none", "-o", "UserKnownHostsFile=\(knownHosts)", "-o", "StrictHostKeyChecking=accept-new",
            "-o", "HashKnownHosts=\(hashed ? "yes" : "no")", "-o", "HostKeyAlgorithms=\(algorithm)", "-o", "BatchMode=yes",
            "-o", "IdentitiesOnly=yes", "-i", sandbox.key, "-p", String(server.port), "\(sandbox.value("SANDBOX_USER"))@127.0.0.1", "true",
        ]), timeout: .seconds(30))
        #expect(result.succeeded, "\(result.stderrText)")
    }

    static let recordings: [(TestSSHServer.KeyType, String, Bool)] = [
        (.ed25519, "ssh-ed25519", false), (.ed25519, "ssh-ed25519", true),
        (.ecdsa, "ecdsa-sha2-nistp256", false), (.ecdsa, "ecdsa-sha2-nistp256", true),
    ]

    @Test(arguments: recordings)
    func theRecordedKeyTypeIsNegotiated(type: TestSSHServer.KeyType, algorithm: String, hashed: Bool) async throws {
        defer { server.stop() }
        try await recordWithSSH(algorithm: algorithm, hashed: hashed)
        let recorded = try String(contentsOfFile: knownHosts, encoding: .utf8)
        #expect(recorded.hasPrefix("|1|") == hashed)

        let connection = try await connect()
        #expect(connection.hostKey.fingerprint == (try server.fingerprint(type)))
        #expect(connection.hostKey.type == algorithm)
        #expect(try await connection.run("echo in").stdoutText == "in\n")
        await connection.close()
    }

    @Test func aDifferentKeyOfARecordedTypeIsChangedEvenWithAcceptNew() async throws {
        defer { server.stop() }
        let other = server.directory.appendingPathComponent("other").path
        let generated = try await LocalHost().run(shellCommand(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other]))
        #expect(generated.succeeded)
        let otherKey = try String(contentsOfFile: other + ".pub", encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        try writeKnownHosts(["[127.0.0.1]:\(server.port) \(otherKey)"])

        let error = await #expect(throws: RemoteError.self) { _ = try await connect(policy: .acceptNew) }
        guard case .changedHostKey(_, _, let key, _) = error else {
            Issue.record("expected changedHostKey, got \(String(describing: error))")
            return
        }
        #expect(key.fingerprint == (try server.fingerprint(.ed25519)))
        #expect(try String(contentsOfFile: knownHosts, encoding: .utf8).split(separator: "\n").count == 1)
    }

    @Test func aRevokedKeyIsRefusedEvenWhenAlsoListed() async throws {
        defer { server.stop() }
        try writeKnownHosts(["@revoked * \(try server.publicKey(.ed25519))", try server.knownHostsLine(.ed25519)])
        let error = await #expect(throws: RemoteError.self) { _ = try await connect(policy: .acceptNew) }
        guard case .revokedHostKey = error else {
            Issue.record("expected revokedHostKey, got \(String(describing: error))")
            return
        }
        #expect(error?.description.contains("@revoked") == true)
    }

    @Test func entriesWithoutThePortDoNotVouchForAnotherPort() async throws {
        defer { server.stop() }
        try writeKnownHosts(["127.0.0.1 \(try server.publicKey(.ed25519))", "127.0.0.1 \(try server.publicKey(.ecdsa))"])
        let error = await #expect(throws: RemoteError.self) { _ = try await connect() }
        guard case .unknownHostKey(_, _, _, _, let recordedTypes) = error else {
            Issue.record("expected unknownHostKey, got \(String(describing: error))")
            return
        }
        #expect(recordedTypes.isEmpty)
    }

    @Test func hostKeyAlgorithmsFromTheSSHConfigWin() async throws {
        defer { server.stop() }
        try writeKnownHosts([try server.knownHostsLine(.ecdsa)])
        let error = await #expect(throws: RemoteError.self) { _ = try await connect(extra: ["HostKeyAlgorithms ssh-ed25519"]) }
        guard case .unknownHostKey(_, _, let key, _, let recordedTypes) = error else {
            Issue.record("expected unknownHostKey, got \(String(describing: error))")
            return
        }
        #expect(key.type == "ssh-ed25519")
        #expect(recordedTypes == ["ecdsa-sha2-nistp256"])

        let unusable = await #expect(throws: RemoteError.self) { _ = try await connect(extra: ["HostKeyAlgorithms rsa-sha2-512,rsa-sha2-256"]) }
        guard case .noUsableHostKeyAlgorithm = unusable else {
            Issue.record("expected noUsableHostKeyAlgorithm, got \(String(describing: unusable))")
            return
        }
    }

    @Test func anRSAOnlyRecordSaysSoAndHowToRecordAnother() async throws {
        defer { server.stop() }
        let scanned = try await LocalHost().run(shellCommand(["ssh-keyscan", "-t", "rsa", "-p", String(server.port), "127.0.0.1"]))
        #expect(scanned.succeeded)
        try scanned.stdoutText.write(toFile: knownHosts, atomically: true, encoding: .utf8)

        let error = await #expect(throws: RemoteError.self) { _ = try await connect() }
        guard case .unknownHostKey(_, _, let key, _, let recordedTypes) = error else {
            Issue.record("expected unknownHostKey, got \(String(describing: error))")
            return
        }
        #expect(recordedTypes == ["ssh-rsa"])
        let message = error?.description ?? ""
        #expect(message.contains("only RSA host keys"))
        #expect(message.contains("ssh-keyscan -t \(key.shortType) -p \(server.port) 127.0.0.1 >> \(knownHosts)"))
        #expect(message.contains(try server.fingerprint(.ed25519)))
    }

    @Test func theMessageNamesTheKeyTypeOffered() async throws {
        defer { server.stop() }
        let ecdsaOnly = try await TestSSHServer.start(hostKeys: [.ecdsa])
        defer { ecdsaOnly.stop() }
        let error = await #expect(throws: RemoteError.self) {
            _ = try await SSHConnection.connect(to: try ecdsaOnly.target(knownHosts: knownHosts))
        }
        let message = error?.description ?? ""
        #expect(message.contains("ECDSA key \(try ecdsaOnly.fingerprint(.ecdsa))"))
        #expect(message.contains("/etc/ssh/ssh_host_ecdsa_key.pub"))
        #expect(!message.contains("ed25519"))
    }
}
