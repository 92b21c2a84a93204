/**
 * Self time of a V8 `.cpuprofile`, by function and by module (package or file), as shares of the
 * busy samples (idle ones left out: the process also idles between the phases).
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface Share {
  name: string;
  pct: number;
}

function moduleOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.startsWith('node:')) return url;
  const hms = url.match(/\/(packages|services)\/([^/]+)\//);
  if (hms) return `@hms/${hms[2]}`;
  return url;
}

export function summarizeProfile(text: string): { modules: Share[]; functions: Share[] } {
  const profile = JSON.parse(text) as { nodes: ProfileNode[] };
  const byModule = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0 || node.callFrame.functionName === '(idle)') continue;
    total += hits;
    const { functionName, url, lineNumber } = node.callFrame;
    const mod = moduleOf(url, functionName);
    byModule.set(mod, (byModule.get(mod) ?? 0) + hits);
    const fn = `${functionName || '(anonymous)'} ${mod}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + hits);
  }
  const sorted = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((x, y) => y[1] - x[1])
      .map(([name, hits]) => ({ name, pct: (100 * hits) / Math.max(1, total) }));
  return { modules: sorted(byModule), functions: sorted(byFunction) };
}
