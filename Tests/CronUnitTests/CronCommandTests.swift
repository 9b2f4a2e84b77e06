@testable import Cron
import Testing

/// The one parser of "which programs a crontab command runs", shared by verify and install.
@Suite struct CronCommandTests {
    @Test func programsPastWrappersShellsAndCd() {
        #expect(CronCommand("/opt/bot/x.sh >> /opt/bot/logs/x.log 2>&1").programs == ["/opt/bot/x.sh"])
        #expect(CronCommand("bash -e /opt/bot/x.sh").programs == ["/opt/bot/x.sh"])
        #expect(CronCommand("cd /opt//bot/ && ./x.sh --midday").programs == ["/opt/bot/x.sh"])
        #expect(CronCommand("A=1 nice -n 10 /opt/bot/x.sh | mail ops").programs == ["/opt/bot/x.sh", "mail"])
        #expect(CronCommand("echo /opt/bot/x.sh").scripts.isEmpty)
        #expect(CronCommand("true % /opt/bot/x.sh").scripts.isEmpty)
    }

    /// cron cuts the command at its first unescaped `%` (the rest is stdin); when the cut leaves an
    /// open `$(`, backquote or quote, `sh -c` refuses the whole line (dash: "Syntax error: end of
    /// file unexpected"), so nothing in it runs, not even the commands before the cut.
    @Test func aCommandTheShellRefusesAfterThePercentCutRunsNothing() {
        #expect(CronCommand("/opt/bot/x.sh > /opt/bot/logs/x_$(date +%F).log 2>&1").programs.isEmpty)
        #expect(CronCommand("/opt/bot/x.sh; echo `date +%s`").programs.isEmpty)
        #expect(CronCommand("/opt/bot/x.sh \"$(date +%F)\"").programs.isEmpty)
        #expect(CronCommand("/opt/bot/x.sh > /opt/bot/logs/x_$(date +\\%F).log").programs.contains("/opt/bot/x.sh"))
        #expect(CronCommand("/opt/bot/x.sh %stdin text (with a paren").programs == ["/opt/bot/x.sh"])
    }

    @Test func sameCommandIgnoresOnlyWhitespace() {
        let entry = CronCommand("/opt/bot/x.sh >> /opt/bot/logs/x.log 2>&1")
        #expect(entry.isSameCommand(as: CronCommand("  /opt/bot/x.sh\t>>/opt/bot/logs/x.log   2>&1 ")))
        #expect(!entry.isSameCommand(as: CronCommand("/opt/bot/x.sh >> /opt/bot/logs/other.log 2>&1")))
        #expect(!entry.isSameCommand(as: CronCommand("/opt/bot/x.sh --midday >> /opt/bot/logs/x.log 2>&1")))
        #expect(!entry.isSameCommand(as: CronCommand("/opt/bot/x.sh >> /opt/bot/logs/x.log 2 >&1")))
        #expect(!CronCommand("echo 'a  b'").isSameCommand(as: CronCommand("echo 'a b'")))
    }
}
