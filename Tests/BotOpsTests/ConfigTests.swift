import BotOpsKit
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

    /// Query names become file names on the host: refused at load time, with file, line and key.
    @Test func queryNamesMustBeFileNames() {
        for name in ["'x; touch /tmp/botops-m'", "'$(id).sql'", "'../etc/passwd'", "'a b.sql'", "'..'", "'-rf.sql'"] {
            let error = #expect(throws: ConfigError.self) {
                try BotOpsConfig.parse("host: h\nchecks:\n  queries:\n    - ok.sql\n    - \(name)\n", file: "botops.yml")
            }
            #expect(error?.description.hasPrefix("botops.yml:5: key 'checks.queries': item") == true, "\(name): \(error?.description ?? "")")
        }
    }

    /// Paths keep shell metacharacters (they reach the host only through shellQuote); control
    /// characters, which would break the line-by-line answers, are refused.
    @Test func pathsAreTakenLiterallyButWithoutControlCharacters() throws {
        let config = try BotOpsConfig.parse("host: h\npath: '/opt/bot;$(id)'\nchecks: {report_script: 'a b/`x`.sh', report_glob: 'logs/*;x'}\n")
        #expect(config.path == "/opt/bot;$(id)")
        #expect(config.checks.reportScript == "a b/`x`.sh")
        #expect(throws: ConfigError.self) { try BotOpsConfig.parse("host: h\npath: \"/opt/bot\\nrm\"\n") }
        for key in ["container", "user", "name"] {
            let error = #expect(throws: ConfigError.self) { try BotOpsConfig.parse("host: h\ndatabase: {\(key): 'db; touch /tmp/m'}\n") }
            #expect(error?.key == "database.\(key)")
        }
    }

    @Test func cronMatchIsRetiredWithAdvice() {
        let error = #expect(throws: ConfigError.self) { try BotOpsConfig.parse("host: h\nchecks:\n  cron_match: weekly\n", file: "botops.yml") }
        #expect(error?.description.hasPrefix("botops.yml:3: key 'checks.cron_match': no longer used") == true)
    }

    @Test func minLinkageRateIsAnOptionalPercentage() throws {
        #expect(try BotOpsConfig.parse("host: h\n").checks.minLinkageRate == nil)
        #expect(try BotOpsConfig.parse("host: h\nchecks: {min_linkage_rate: 90}\n").checks.minLinkageRate == 90)
        #expect(try BotOpsConfig.parse("host: h\nchecks: {min_linkage_rate: 87.5%}\n").checks.minLinkageRate == 87.5)
        for bad in ["101", "-1", "nan", "inf", "ninety"] {
            let error = #expect(throws: ConfigError.self) { try BotOpsConfig.parse("host: h\nchecks: {min_linkage_rate: \(bad)}\n") }
            #expect(error?.key == "checks.min_linkage_rate")
        }
    }

    /// Durations that would overflow the clock's arithmetic are config errors, not crashes.
    @Test func hugeDurationsAreRefused() throws {
        #expect(try BotOpsConfig.parse("host: h\nhealth: {timeout: 24h}\n").health.timeout == .seconds(86_400))
        for huge in ["9223372036854775807h", "9223372036854775807ms", "106751991167301d", "25h", "86401s"] {
            let error = #expect(throws: ConfigError.self) { try BotOpsConfig.parse("host: h\nhealth: {timeout: \(huge)}\n") }
            #expect(error?.problem.contains("at most 24h") == true, "\(huge)")
        }
    }
}
