import { openCorpusChain } from "./env";
import { runBenign } from "./benign";
(async () => {
  const chain = await openCorpusChain();
  const t = Date.now();
  try {
    const r = await runBenign(chain, Number(process.argv[2] ?? 100));
    console.log(JSON.stringify(r, null, 1).slice(0, 4000), Date.now() - t, "ms");
  } catch (e) { console.log("ERR", e); } finally { await chain.stop(); }
})();
