import { expect } from "chai";
import path from "node:path";
import { parseEther } from "ethers";
import { invariantDetector } from "../../../guardian/detectors/invariant";
import { parseInvariant, evaluate, InvariantSyntaxError } from "../../../guardian/detectors/invariant-expression";
import { readBlockFixture } from "./block-fixtures";
import { createFromFixture, runBlocks } from "./detector-harness";
import { FIXTURE_DETECTOR_PARAMS } from "./fixtures/detector-params";

const RECORDED = FIXTURE_DETECTOR_PARAMS["unbacked-mint"].invariant;

describe("invariant detector", () => {
  const fx = readBlockFixture("unbacked-mint");
  const byLabel = (l: string) => fx.blockOf(l);

  describe("expressions at the block's state", () => {
    it("holds while every token is backed and breaks at the unbacked mint, with both sides' values", async () => {
      const d = createFromFixture(invariantDetector, fx, RECORDED);
      expect(await d.onBlock(byLabel("deposit"))).to.deep.equal([]);
      expect(await d.onBlock(byLabel("withdraw"))).to.deep.equal([]);
      const findings = await d.onBlock(byLabel("unbackedMint"));
      const backing = findings.find((f) => f.evidence.invariant === "backing")!;
      expect(backing.severity).to.equal("critical");
      expect(backing.blockNumber).to.equal(byLabel("unbackedMint").number);
      expect(backing.txHash).to.equal(undefined);
      expect(backing.evidence.left).to.deep.equal({ expr: "weth.totalSupply()", value: parseEther("1004").toString() });
      expect(backing.evidence.right).to.deep.equal({ expr: "eth.balance(weth)", value: parseEther("4").toString() });
      expect(backing.evidence.difference).to.equal(parseEther("1000").toString());
      const share = findings.find((f) => f.evidence.invariant === "minter-share")!;
      expect(share.evidence.values).to.deep.equal({
        "weth.balanceOf(0x976EA74026E726554dB657fA54763abd0C3a0aa9)": parseEther("1000").toString(),
        "weth.totalSupply()": parseEther("1004").toString(),
      });
      expect(share.evidence.left).to.deep.equal({ expr: "weth.balanceOf(0x976EA74026E726554dB657fA54763abd0C3a0aa9) * 2", value: parseEther("2000").toString() });
    });

    it("in every-block mode reports each block that stays broken; in on-break mode only the first", async () => {
      const every = await runBlocks(createFromFixture(invariantDetector, fx, RECORDED), fx.blocks);
      expect(every.filter((f) => f.evidence.invariant === "backing").map((f) => f.blockNumber)).to.deep.equal([
        byLabel("unbackedMint").number,
        byLabel("laterDeposit").number,
      ]);
      const onBreak = await runBlocks(createFromFixture(invariantDetector, fx, { ...RECORDED, mode: "on-break" }), fx.blocks);
      expect(onBreak.map((f) => [f.evidence.invariant, f.blockNumber])).to.have.deep.members([
        ["backing", byLabel("unbackedMint").number],
        ["minter-share", byLabel("unbackedMint").number],
      ]);
    });

    it("reports the break again after a rewind replaces the block, and resumes from saved state", async () => {
      const params = { ...RECORDED, mode: "on-break" };
      const d = createFromFixture(invariantDetector, fx, params);
      await runBlocks(d, fx.blocks.slice(0, 3));
      d.rewind!(byLabel("withdraw").number);
      expect(await d.onBlock(byLabel("unbackedMint"))).to.have.length(2);

      const restarted = createFromFixture(invariantDetector, fx, params);
      restarted.loadState!(JSON.parse(JSON.stringify(d.saveState!())));
      expect(await restarted.onBlock(byLabel("laterDeposit"))).to.deep.equal([]);
    });

    it("asks the node at the block's hash, never at latest", async () => {
      await runBlocks(createFromFixture(invariantDetector, fx, RECORDED), fx.blocks);
      const asked = fx.rpc.asked.map((k) => JSON.parse(k) as [string, unknown[]]);
      expect(asked.length).to.be.greaterThan(0);
      for (const [, params] of asked) expect(params[1]).to.have.property("blockHash");
    });
  });

  describe("prefetch", () => {
    it("evaluates at the block's hash ahead of onBlock, with the findings onBlock alone gives", async () => {
      const plain = await runBlocks(createFromFixture(invariantDetector, fx, RECORDED), fx.blocks);
      const d = createFromFixture(invariantDetector, fx, RECORDED);
      const found = [];
      for (const b of fx.blocks) {
        const askedBefore = fx.rpc.asked.length;
        d.prefetch!(b, Promise.resolve(b), fx.rpc);
        await new Promise((r) => setImmediate(r));
        const early = fx.rpc.asked.slice(askedBefore);
        expect(early.length, `reads for block ${b.number} before onBlock`).to.be.greaterThan(0);
        for (const key of early) expect(key).to.contain(b.hash);
        found.push(...(await d.onBlock(b)));
        expect(fx.rpc.asked.length - askedBefore, "onBlock asks nothing more").to.equal(early.length);
      }
      expect(found).to.deep.equal(plain);
    });
  });

  describe("code hooks", () => {
    it("loads a TypeScript module and turns its violations into findings", async () => {
      const d = createFromFixture(invariantDetector, fx, {
        hooks: [{ name: "large-mints", module: path.join(__dirname, "hooks", "large-mints.ts"), severity: "high" }],
      });
      const findings = await runBlocks(d, fx.blocks);
      expect(findings).to.have.length(1);
      expect(findings[0].severity).to.equal("high");
      expect(findings[0].blockNumber).to.equal(byLabel("unbackedMint").number);
      expect(findings[0].contract).to.equal(fx.label("weth"));
      expect(findings[0].evidence).to.include({ hook: "large-mints", amount: parseEther("1000").toString(), to: fx.label("minter") });
    });

    it("names the module and export when a hook cannot be loaded", () => {
      expect(() => createFromFixture(invariantDetector, fx, { hooks: [{ name: "h", module: "no/such/hook.ts" }] })).to.throw(
        /detector invariant: hook "h": cannot load module .*no\/such\/hook\.ts/,
      );
      expect(() =>
        createFromFixture(invariantDetector, fx, { hooks: [{ name: "h", module: path.join(__dirname, "hooks", "large-mints.ts"), export: "check" }] }),
      ).to.throw(/has no exported function "check"/);
    });
  });

  describe("configuration errors", () => {
    const create = (expr: string) => () => createFromFixture(invariantDetector, fx, { invariants: [{ name: "x", expr }] });

    it("points at the config path and column of a syntax error when the config is checked", () => {
      const issue = (expr: string) => {
        const r = invariantDetector.params.safeParse({ invariants: [{ name: "x", expr }] });
        return r.success ? undefined : { path: r.error.issues[0].path.join("."), message: r.error.issues[0].message };
      };
      expect(issue("weth.totalSupply() <= ")).to.deep.equal({
        path: "invariants.0.expr",
        message: 'unexpected end of expression at column 23 of "weth.totalSupply() <= "',
      });
      expect(issue("weth.totalSupply() + 1")?.message).to.match(/expected a comparison/);
      expect(issue("weth.totalSupply() <= 1; process.exit()")?.message).to.match(/unexpected character ";" at column 24/);
      expect(issue("weth.totalSupply() <= 1")).to.equal(undefined);
    });

    it("names unknown contracts, functions and misuse", () => {
      expect(create("vault.totalAssets() <= 1")).to.throw('unknown contract "vault" (known: weth)');
      expect(create("weth.totalAssets() <= 1")).to.throw("no function totalAssets with 0 argument(s) in weth's ABI");
      expect(create("weth.deposit() <= 1")).to.throw("deposit is not a view function");
      expect(create("weth.name() <= 1")).to.throw("name must return one integer or bool");
      expect(create("weth.balanceOf(5) <= 1")).to.throw("argument 1 does not fit parameter type address");
      expect(create("eth.code(weth) <= 1")).to.throw("the only eth function is eth.balance(address)");
    });

    it("requires at least one invariant or hook", () => {
      expect(invariantDetector.params.safeParse({}).success).to.equal(false);
    });
  });

  describe("expression language", () => {
    const calc = async (src: string) => {
      const inv = parseInvariant(`${src} == 0`);
      return evaluate(inv.left, { resolveName: () => "0x0", call: async () => 0n });
    };

    it("does exact bigint arithmetic with the usual precedence", async () => {
      expect(await calc("1 + 2 * 3")).to.equal(7n);
      expect(await calc("(1 + 2) * 3")).to.equal(9n);
      expect(await calc("10 - 4 - 3")).to.equal(3n);
      expect(await calc("7 / 2 % 2")).to.equal(1n);
      expect(await calc("-2 * 3")).to.equal(-6n);
      expect(await calc("1e18 + 1_000")).to.equal(10n ** 18n + 1000n);
      expect(await calc("0xff")).to.equal(255n);
      expect(await calc("2 ** 3").catch((e: Error) => e)).to.be.instanceOf(Error);
    });

    it("refuses to divide by zero instead of producing a value", async () => {
      const err = await calc("1 / 0").catch((e: Error) => e);
      expect((err as Error).message).to.equal("division by zero");
    });

    it("reports where parsing failed", () => {
      expect(() => parseInvariant("a.b( <= 1")).to.throw(InvariantSyntaxError);
    });
  });
});
