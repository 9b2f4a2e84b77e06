import Foundation
import PropertyBased
@testable import Remote
import SandboxSupport
import Testing

/// known_hosts as `ssh` reads it, and the host key algorithm order botops offers.
@Suite struct KnownHostsTests {
    // Real public keys (from ssh-keygen), so entries parse as they would in a user's file.
    static let ed25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEfNEq7GNjlwMnEYRZ89zUXgji5+I6CjQ8Gj3cixjeOW"
    static let ecdsa = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBAmlI/aNKE/LJ6rck+XYEZGiYgcpXx69N6R1QSALzL9NwdUQQ24gMOHPbtWGZwO7yyYSe+sLo3z7/hD7rDnpN/g="
    static let otherEd25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPus/3zC/KedTJm7fto5lkCL9/tlvJwels6gZbNo3WFU"

    static func blob(_ key: String) -> [UInt8] {
        Array(Data(base64Encoded: String(key.split(separator: " ")[1]))!)
    }

    @Test func portTwentyTwoUsesTheBareNameOthersTheBracketedOne() {
        #expect(KnownHosts.lookupName(host: "Bot.Example.NET", port: 22) == "bot.example.net")
        #expect(KnownHosts.lookupName(host: "10.0.0.5", port: 2222) == "[10.0.0.5]:2222")
        let hosts = KnownHosts(text: "10.0.0.5 \(Self.ed25519)\n[10.0.0.5]:2222 \(Self.ecdsa)\n")
        #expect(hosts.recordedKeyTypes(for: "10.0.0.5") == ["ssh-ed25519"])
        #expect(hosts.recordedKeyTypes(for: "[10.0.0.5]:2222") == ["ecdsa-sha2-nistp256"])
        #expect(hosts.recordedKeyTypes(for: "[10.0.0.5]:2200").isEmpty)
    }

    @Test func patternsWildcardsAndNegation() {
        let hosts = KnownHosts(text: """
            # comment
            bot1,bot2.example.net \(Self.ed25519) user@laptop
            *.internal,!db.internal \(Self.ecdsa)
            [*.lab]:* \(Self.ed25519)
            """)
        #expect(hosts.recordedKeyTypes(for: "bot2.example.net") == ["ssh-ed25519"])
        #expect(hosts.recordedKeyTypes(for: "app.internal") == ["ecdsa-sha2-nistp256"])
        #expect(hosts.recordedKeyTypes(for: "db.internal").isEmpty)
        #expect(hosts.recordedKeyTypes(for: "[x.lab]:2022") == ["ssh-ed25519"])
    }

    @Test func hashedNamesAsSSHKeygenWritesThem() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("known_hosts").path
        try "bot.example.net \(Self.ed25519)\n[10.0.0.5]:2222 \(Self.ecdsa)\n".write(toFile: file, atomically: true, encoding: .utf8)
        let hashed = try await LocalHost().run(shellCommand(["ssh-keygen", "-H", "-f", file]))
        #expect(hashed.succeeded, "\(hashed.stderrText)")
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(!text.contains("bot.example.net"))

        let hosts = KnownHosts(text: text)
        #expect(hosts.recordedKeyTypes(for: "bot.example.net") == ["ssh-ed25519"])
        #expect(hosts.recordedKeyTypes(for: "[10.0.0.5]:2222") == ["ecdsa-sha2-nistp256"])
        #expect(hosts.recordedKeyTypes(for: "bot.example.org").isEmpty)
        #expect(hosts.verdict(for: Self.blob(Self.ed25519), name: "bot.example.net") == .known)
    }

    @Test func verdicts() {
        let hosts = KnownHosts(text: """
            h \(Self.ed25519)
            h \(Self.ecdsa)
            @revoked * \(Self.otherEd25519)
            @cert-authority *.example.net \(Self.ecdsa)
            """)
        #expect(hosts.verdict(for: Self.blob(Self.ed25519), name: "h") == .known)
        #expect(hosts.verdict(for: Self.blob(Self.otherEd25519), name: "h") == .revoked)
        #expect(hosts.verdict(for: Self.blob(Self.otherEd25519), name: "g") == .revoked)
        #expect(hosts.verdict(for: Self.blob(Self.ecdsa), name: "g") == .unknown(recordedTypes: []))
        // A CA line vouches for certificates, not for the plain key.
        #expect(hosts.verdict(for: Self.blob(Self.ecdsa), name: "a.example.net") == .unknown(recordedTypes: []))

        let one = KnownHosts(text: "h \(Self.otherEd25519)\nh \(Self.ecdsa)\n")
        #expect(one.verdict(for: Self.blob(Self.ed25519), name: "h") == .changed)
        let other = KnownHosts(text: "h \(Self.ecdsa)\n")
        #expect(other.verdict(for: Self.blob(Self.ed25519), name: "h") == .unknown(recordedTypes: ["ecdsa-sha2-nistp256"]))
    }

    @Test func unreadableLinesAreSkipped() {
        let hosts = KnownHosts(text: """
            h ssh-ed25519 not-base64!
            h ecdsa-sha2-nistp256 \(Self.ed25519.split(separator: " ")[1])
            @bogus h \(Self.ed25519)
            |1|short|hash \(Self.ed25519)
            h
            h \(Self.ecdsa)
            """)
        #expect(hosts.entries.count == 1)
        #expect(hosts.recordedKeyTypes(for: "h") == ["ecdsa-sha2-nistp256"])
    }

    @Test func anyTextParsesWithoutCrashing() async {
        let alphabet = Gen<Character?>.element(of: Array("h[]:*?!,|1@ \t\n#AAAAC3NzaC1lZDI1NTE5=+/sh-edcar")).map { $0 ?? "h" }
        await propertyCheck(count: 2000, input: alphabet.string(of: 0...120)) { text in
            let hosts = KnownHosts(text: text)
            for entry in hosts.entries {
                #expect(KnownHosts.keyType(of: entry.key) == entry.keyType)
            }
            _ = hosts.verdict(for: Self.blob(Self.ed25519), name: "h")
        }
        // Damaging a good line anywhere never crashes either.
        let line = Array("|1|F1E1KeoE/eEWhi10WpGv4OdiO6Y=|3988QV0VE8wmZL7suNrYQLITLCg= \(Self.ed25519)")
        await propertyCheck(count: 1000, input: Gen.int(in: 0...(line.count - 1)), Gen.int(in: 0...(line.count - 1))) { cut, drop in
            var damaged = line
            damaged.removeSubrange(min(cut, drop)..<max(cut, drop))
            _ = KnownHosts(text: String(damaged)).recordedKeyTypes(for: "h")
        }
    }
}

@Suite struct HostKeyAlgorithmTests {
    /// What libssh2 1.10 reports.
    let supported = ["ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-ed25519", "ssh-rsa", "ssh-dss"]

    func preference(_ recorded: [String], _ configured: String? = nil) -> [String] {
        HostKeyAlgorithms.preference(supported: supported, recordedKeyTypes: recorded, configured: configured)
    }

    @Test func recordedTypesComeFirstThenOpenSSHsOrder() {
        #expect(preference([]) == ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"])
        #expect(preference(["ecdsa-sha2-nistp256"]).first == "ecdsa-sha2-nistp256")
        #expect(preference(["ecdsa-sha2-nistp384", "ssh-ed25519"]).prefix(2) == ["ssh-ed25519", "ecdsa-sha2-nistp384"])
        // RSA: OpenSSH would use rsa-sha2-*, which libssh2 1.10 lacks; SHA-1 ssh-rsa is tried first.
        #expect(preference(["ssh-rsa"]) == ["ssh-rsa", "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"])
    }

    @Test func hostKeyAlgorithmsSettingAsSSHAppliesIt() {
        #expect(preference(["ssh-ed25519"], "ecdsa-sha2-nistp256") == ["ecdsa-sha2-nistp256"])
        #expect(preference([], "ecdsa-*,ssh-ed25519") == ["ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-ed25519"])
        #expect(preference([], "+ssh-rsa") == ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa"])
        #expect(preference([], "-ecdsa-*") == ["ssh-ed25519"])
        #expect(preference([], "^ecdsa-sha2-nistp521") == ["ecdsa-sha2-nistp521", "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384"])
        #expect(preference([], "rsa-sha2-512,rsa-sha2-256").isEmpty)
    }
}
