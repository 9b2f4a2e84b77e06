import PropertyBased
@testable import Remote
import Testing

/// Dead-peer detection and command deadlines, on an injected clock.
@Suite struct PeerLivenessTests {
    @Test func theDefaultsGiveUpAfterAMinuteOfSilence() {
        var liveness = PeerLiveness(serverAliveInterval: SSHTargetResolver.defaultServerAliveInterval,
                                    countMax: SSHTargetResolver.defaultServerAliveCountMax)
        #expect(liveness.keepaliveSeconds == 15)
        #expect(liveness.limit == .seconds(60))
        liveness.waited(.seconds(59))
        #expect(!liveness.isDead)
        #expect(liveness.timeLeft == .seconds(1))
        liveness.waited(.seconds(1))
        #expect(liveness.isDead)
    }

    @Test func anyAnswerStartsTheCountAgain() {
        var liveness = PeerLiveness(serverAliveInterval: 5, countMax: 3)
        liveness.waited(.seconds(19))
        liveness.heard()
        liveness.waited(.seconds(19))
        #expect(!liveness.isDead)
        liveness.waited(.seconds(1))
        #expect(liveness.isDead)
    }

    @Test func intervalsBelowLibssh2sShortestCountAsTwoSeconds() {
        let liveness = PeerLiveness(serverAliveInterval: 1, countMax: 2)
        #expect(liveness.keepaliveSeconds == 2)
        #expect(liveness.limit == .seconds(6))
        #expect(liveness.lostDetail.contains("ServerAliveInterval 1, ServerAliveCountMax 2"))
    }

    @Test func zeroTurnsDetectionOff() {
        var liveness = PeerLiveness(serverAliveInterval: 0, countMax: 3)
        liveness.waited(.seconds(86_400))
        #expect(liveness.keepaliveSeconds == nil)
        #expect(!liveness.isDead)
        #expect(liveness.timeLeft == nil)
    }

    @Test func anExpiredDeadlineIsReportedOnceAndNeverWakesTheLoopAgain() {
        let now = ContinuousClock.now
        var deadlines = CommandDeadlines<Int>()
        deadlines.set(1, now.advanced(by: .seconds(-3)))
        deadlines.set(2, now.advanced(by: .seconds(2)))
        deadlines.set(3, nil)
        #expect(deadlines.expire(at: now) == [1])
        #expect(deadlines.expire(at: now).isEmpty)
        #expect(deadlines.timeUntilNext(from: now) == .seconds(2))
        deadlines.remove(2)
        #expect(deadlines.timeUntilNext(from: now) == nil)
    }

    @Test func afterExpiryTheNextWakeIsAlwaysInTheFuture() async {
        let offsets = Gen.int(in: -5_000...5_000).array(of: 0...12)
        await propertyCheck(count: 500, input: offsets) { offsets in
            let now = ContinuousClock.now
            var deadlines = CommandDeadlines<Int>()
            for (id, offset) in offsets.enumerated() {
                deadlines.set(id, now.advanced(by: .milliseconds(offset)))
            }
            let expired = Set(deadlines.expire(at: now))
            #expect(expired == Set(offsets.indices.filter { offsets[$0] <= 0 }))
            if let next = deadlines.timeUntilNext(from: now) {
                #expect(next > .zero)
            }
        }
    }

    @Test func sshConfigTimes() {
        #expect(SSHTargetResolver.seconds("15") == 15)
        #expect(SSHTargetResolver.seconds("90s") == 90)
        #expect(SSHTargetResolver.seconds("1m30s") == 90)
        #expect(SSHTargetResolver.seconds("2H") == 7200)
        #expect(SSHTargetResolver.seconds("1w") == 604_800)
        for bad in ["", "-1", "1.5", "s", "1x", "99999999999999999999", "1ms"] {
            #expect(SSHTargetResolver.seconds(bad) == nil, "\(bad)")
        }
    }

    @Test func anySSHConfigTimeParsesWithoutCrashing() async {
        let alphabet = Gen<Character?>.element(of: Array("0123456789smhdwSMHDW -.x٣")).map { $0 ?? "0" }
        await propertyCheck(count: 3000, input: alphabet.string(of: 0...24)) { text in
            if let seconds = SSHTargetResolver.seconds(text) {
                #expect((0...31_536_000).contains(seconds))
            }
        }
    }

    @Test func badKeepaliveSettingsAreConfigErrors() {
        for (key, value) in [("ServerAliveInterval", "often"), ("ServerAliveCountMax", "-1")] {
            let config = SSHConfig(text: "Host h\n  \(key) \(value)\n")
            #expect(throws: SSHTargetError.badValue(key: key, value: value, expected: key == "ServerAliveInterval" ? "seconds, or a time such as 30s or 1m" : "a whole number, 0 or more")) {
                try SSHTargetResolver(config: config, homeDirectory: "/home/me", localUser: "me").resolve("h")
            }
        }
        let target = try? SSHTargetResolver(config: SSHConfig(text: "Host h\n  ServerAliveInterval 1m\n  ServerAliveCountMax 5\n"),
                                            homeDirectory: "/home/me", localUser: "me").resolve("h")
        #expect(target?.serverAliveInterval == 60)
        #expect(target?.serverAliveCountMax == 5)
    }
}
