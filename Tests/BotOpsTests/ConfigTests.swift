import BotOps
import Foundation
import Testing

@Suite struct ConfigTests {
    @Test func exampleConfigForTheUsersHostLoads() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let config = try BotOpsConfig.load(path: root.appendingPathComponent("botops.yml").path)
        #expect(config.host == "bottrader-aws")
        #expect(config.path == "/opt/bot")
        #expect(config.services == ["sighook", "webhook", "report-job"])
        #expect(config.database.container == "db")
        #expect(config.checks.queries.count == 3)
        #expect(config.health.timeout == .seconds(60))
    }

    @Test func defaultsFillWhatIsNotGiven() throws {
        let config = try BotOpsConfig.parse("host: me@example.org:2222\n")
        #expect(config == BotOpsConfig(host: "me@example.org:2222"))
    }

    @Test func unknownKeyNamesKeyAndLine() {
        let error = #expect(throws: ConfigError.self) {
            try BotOpsConfig.parse("host: h\npath: /opt/bot\ncompose:\n  file: x.yml\n  fil: y.yml\n", file: "botops.yml")
        }
        #expect(error?.line == 5)
        #expect(error?.key == "compose.fil")
        #expect(error?.description.hasPrefix("botops.yml:5: key 'compose.fil': unknown key; expected one of:") == true)
        #expect(error?.description.contains("file") == true)
    }

    @Test func wrongTypeSaysWhatIsExpected() {
        let error = #expect(throws: ConfigError.self) {
            try BotOpsConfig.parse("host: h\n\nservices: sighook\n")
        }
        #expect(error?.line == 3)
        #expect(error?.key == "services")
        #expect(error?.problem.contains("expected a non-empty list") == true)

        let number = #expect(throws: ConfigError.self) {
            try BotOpsConfig.parse("host: h\nchecks:\n  min_linked_trades: many\n")
        }
        #expect(number?.line == 3)
        #expect(number?.key == "checks.min_linked_trades")
    }

    @Test func missingHostIsNamed() {
        let error = #expect(throws: ConfigError.self) { try BotOpsConfig.parse("path: /opt/bot\n") }
        #expect(error?.key == "host")
        #expect(error?.problem.contains("ssh config alias") == true)
    }

    @Test func unsafeNamesAndPathsAreRefused() {
        let service = #expect(throws: ConfigError.self) { try BotOpsConfig.parse("host: h\nservices: [sighook, 'x; rm -rf /']\n") }
        #expect(service?.key == "services")
        #expect(service?.line == 2)
        let path = #expect(throws: ConfigError.self) { try BotOpsConfig.parse("host: h\npath: opt/bot\n") }
        #expect(path?.problem.contains("absolute path") == true)
        let escape = #expect(throws: ConfigError.self) { try BotOpsConfig.parse("host: h\ncompose:\n  file: ../../etc/passwd\n") }
        #expect(escape?.line == 3)
    }

    @Test func durationsAndComposeCommand() throws {
        let config = try BotOpsConfig.parse("host: h\nhealth: {timeout: 2m, stable_for: 500ms}\ncompose: {command: docker-compose}\n")
        #expect(config.health.timeout == .seconds(120))
        #expect(config.health.stableFor == .milliseconds(500))
        #expect(config.compose.command == .v1)
        #expect(throws: ConfigError.self) { try BotOpsConfig.parse("host: h\ncompose: {command: podman}\n") }
    }

    @Test func invalidYAMLAndEmptyFile() {
        #expect(throws: ConfigError.self) { try BotOpsConfig.parse("host: [unclosed\n") }
        #expect(throws: ConfigError.self) { try BotOpsConfig.parse("") }
        #expect(throws: ConfigError.self) { try BotOpsConfig.parse("- a\n- b\n") }
    }
}
