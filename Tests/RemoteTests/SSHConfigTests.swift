@testable import Remote
import Testing

@Suite struct SSHConfigTests {
    let config = SSHConfig(text: """
        # comment
        Host bottrader-aws
          HostName 203.0.113.7
          User ubuntu
          IdentityFile ~/.ssh/bot_ed25519
          ConnectTimeout 5

        Host *.internal !skip.internal
          User ops
          Port 2200

        Host prod-?
          HostName %h.example.net

        Host *
          User fallback
          IdentityFile=~/.ssh/default_key
          UserKnownHostsFile ~/.ssh/known_hosts_botops
          StrictHostKeyChecking accept-new
          ServerAliveInterval 30
        """)

    func resolve(_ spec: String) throws -> SSHTarget {
        try SSHTargetResolver(config: config, homeDirectory: "/home/me", localUser: "me").resolve(spec)
    }

    @Test func aliasTakesItsOwnValuesFirst() throws {
        let target = try resolve("bottrader-aws")
        #expect(target.hostname == "203.0.113.7")
        #expect(target.user == "ubuntu")
        #expect(target.port == 22)
        #expect(target.connectTimeout == 5)
        // IdentityFile accumulates across matching blocks, in order.
        #expect(target.identityFiles == ["/home/me/.ssh/bot_ed25519", "/home/me/.ssh/default_key"])
    }

    @Test func wildcardsAndNegation() throws {
        let matched = try resolve("db.internal")
        #expect(matched.user == "ops")
        #expect(matched.port == 2200)
        let negated = try resolve("skip.internal")
        #expect(negated.user == "fallback")
        #expect(negated.port == 22)
        #expect(try resolve("prod-1").hostname == "prod-1.example.net")
        #expect(try resolve("prod-12").hostname == "prod-12")
    }

    @Test func hostStarProvidesDefaults() throws {
        let target = try resolve("anything")
        #expect(target.hostname == "anything")
        #expect(target.user == "fallback")
        #expect(target.knownHostsFile == "/home/me/.ssh/known_hosts_botops")
        #expect(target.hostKeyPolicy == .acceptNew)
        #expect(target.serverAliveInterval == 30)
    }

    @Test func explicitUserAndPortWinOverConfig() throws {
        let target = try resolve("root@bottrader-aws:2022")
        #expect(target.user == "root")
        #expect(target.port == 2022)
        #expect(target.hostname == "203.0.113.7")
        let ipv6 = try resolve("[::1]:2222")
        #expect(ipv6.hostname == "::1")
        #expect(ipv6.port == 2222)
    }

    @Test func emptyConfigUsesSSHDefaults() throws {
        let target = try SSHTargetResolver(config: SSHConfig(text: ""), homeDirectory: "/root", localUser: "root").resolve("host")
        #expect(target.user == "root")
        #expect(target.identityFiles == ["/root/.ssh/id_ed25519", "/root/.ssh/id_ecdsa", "/root/.ssh/id_rsa"])
        #expect(target.knownHostsFile == "/root/.ssh/known_hosts")
        #expect(target.hostKeyPolicy == .strict)
    }

    @Test func identityAgentFollowsSSH() throws {
        let config = SSHConfig(text: "Host a\n  IdentityAgent none\nHost b\n  IdentityAgent ~/agent.sock\n")
        func agent(_ alias: String) throws -> String? {
            try SSHTargetResolver(config: config, homeDirectory: "/home/me", localUser: "me", agentSocket: "/run/env.sock").resolve(alias).agentSocket
        }
        #expect(try agent("a") == nil)
        #expect(try agent("b") == "/home/me/agent.sock")
        #expect(try agent("c") == "/run/env.sock")
    }

    @Test func badSpecsAreRejectedWithTheReason() {
        #expect(throws: SSHTargetError.badPort("99999", source: "host:99999")) { try resolve("host:99999") }
        #expect(throws: SSHTargetError.malformed("@host")) { try resolve("@host") }
    }
}
