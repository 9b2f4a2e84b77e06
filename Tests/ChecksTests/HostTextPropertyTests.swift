import Basics
@testable import Checks
import Cron
import PropertyBased
import Testing

/// What the host sends is data: no crontab line, clock or text from it may trap.
@Suite struct HostTextPropertyTests {
    static let cronPieces = ["0", "9", "*", "/", ",", "-", " ", "\t", "@", "@weekly", "@reboot", "mon", "JAN", "31", "60", "7", "8",
                             "99999999999999999999", "#", "=", "%", "\\", "'", "\"", "&&", ";", "|", "cd /opt/bot", "./weekly_strategy_review.sh",
                             "/opt/bot/weekly_strategy_review.sh", "bash", "-e", "nice", "-n", "env", "A=1"]

    static func line(count: ClosedRange<Int> = 0...16) -> Generator<String, AnySequence<Any>> {
        Gen<String?>.element(of: cronPieces).array(of: count).map { $0.compactMap { $0 }.joined() }.eraseToAny()
    }

    @Test func crontabLinesAndClocksNeverTrap() async {
        let clocks = Gen<Int>.oneOf(Gen.int(in: 0...4_000_000_000).eraseToAny(), Gen<Int>.int().eraseToAny()).eraseToAny()
        let zones = ["UTC", "America/Los_Angeles", "Asia/Kolkata", "Australia/Lord_Howe"].compactMap(CronZone.init(identifier:))
        await propertyCheck(count: 3000, input: Self.line(), clocks, Gen.element(of: zones), Gen.bool) { line, now, zone, cronie in
            var facts = Fixture.host
            facts.crontab = .listed([line])
            facts.now = now
            facts.cronTime = .success(CronHostTime(zone: zone ?? .utc, honoursCronTZ: cronie))
            _ = CronScheduledCheck().evaluate(facts, settings: Fixture.settings)
        }
    }

    @Test func terminalSafeTextHasNoControlCharacters() async {
        let scalars = Gen.unicodeScalar(in: "\u{0}"..."\u{2070}").array(of: 0...40).map { String(String.UnicodeScalarView($0)) }
        await propertyCheck(count: 3000, input: scalars) { text in
            let safe = terminalSafe(text)
            #expect(!safe.unicodeScalars.contains { $0.value < 0x20 || (0x7F..<0xA0).contains($0.value) || (0x202A...0x202E).contains($0.value) })
        }
    }
}
