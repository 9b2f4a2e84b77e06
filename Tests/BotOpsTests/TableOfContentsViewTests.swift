import BotOpsKit
import Testing

/// Views and materialized views over a restored table, from a real `pg_restore --list --verbose` (trimmed).
struct TableOfContentsViewTests {
    static let list = """
        215; 1259 346859 TABLE public trade_strategy_link bot_user
        214; 1259 346850 TABLE public trade_records bot_user
        216; 1259 346866 VIEW public link_view bot_user
        ;\tdepends on: 215 215
        218; 1259 346867 VIEW public joined_view bot_user
        ;\tdepends on: 215 214
        219; 1259 346868 VIEW public view_on_view bot_user
        ;\tdepends on: 216
        217; 1259 346870 MATERIALIZED VIEW public link_counts bot_user
        ;\tdepends on: 215
        3351; 0 346859 TABLE DATA public trade_strategy_link bot_user
        ;\tdepends on: 215
        3360; 0 0 ACL public TABLE link_view bot_user
        ;\tdepends on: 216
        3290; 1259 346871 INDEX public link_counts_n bot_user
        ;\tdepends on: 217
        3352; 0 346870 MATERIALIZED VIEW DATA public link_counts bot_user
        ;\tdepends on: 217 3351
        """
    let contents = TableOfContents(verboseList: Self.list)
    let link = TableOfContents.TableName(schema: "public", name: "trade_strategy_link")

    @Test func viewsDroppedWithTheTableComeBackWhenWhatTheyReadIsThere() throws {
        let live: Set<TableOfContents.TableName> = [.init(schema: "public", name: "trade_records")]
        let selection = try contents.selection(for: [link], live: live)
        #expect(selection.entries.map(\.id) == [215, 216, 218, 219, 217, 3351, 3360, 3290, 3352])
    }

    @Test func aViewStillThereOrOneOverATableThatIsGoneStaysAsItIs() throws {
        let selection = try contents.selection(for: [link], live: [.init(schema: "public", name: "link_view")])
        // link_view is still there (view_on_view reads only it, not the table); joined_view reads trade_records, gone.
        #expect(selection.entries.map(\.id) == [215, 217, 3351, 3290, 3352])
    }
}
