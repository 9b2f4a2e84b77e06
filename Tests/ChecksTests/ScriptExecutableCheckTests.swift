@testable import Checks
import Testing

@Suite struct ScriptExecutableCheckTests {
    @Test func passesWithModeAndOwner() {
        let verdict = ScriptExecutableCheck().evaluate(Fixture.host, settings: Fixture.settings)
        #expect(verdict.status == .pass)
        #expect(verdict.evidence.contains(Evidence("mode", "-rwxr-xr-x (755)")))
        #expect(verdict.evidence.contains(Evidence("owner", "bot")))
    }

    @Test func missingScriptNamesTheRestore() {
        var facts = Fixture.host
        facts.script = nil
        let verdict = ScriptExecutableCheck().evaluate(facts, settings: Fixture.settings)
        #expect(verdict.status == .fail)
        #expect(verdict.message.contains("is missing"))
        #expect(verdict.message.contains("git -C /opt/bot checkout -- weekly_strategy_review.sh"))
    }

    @Test func notExecutableNamesChmod() {
        var facts = Fixture.host
        facts.script = Fixture.file(mode: "-rw-r--r--")
        facts.scriptExecutable = false
        let verdict = ScriptExecutableCheck().evaluate(facts, settings: Fixture.settings)
        #expect(verdict.status == .fail)
        #expect(verdict.message.contains("chmod +x /opt/bot/weekly_strategy_review.sh"))
    }

    @Test func directoryIsNotAScript() {
        var facts = Fixture.host
        facts.script = Fixture.file(kind: "directory")
        #expect(ScriptExecutableCheck().evaluate(facts, settings: Fixture.settings).status == .fail)
    }
}
