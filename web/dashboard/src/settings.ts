// The settings form: thresholds per aspect, regeneration budget, batch rules and the ComfyUI targets
// (quarantine, regeneration, feedback). The server validates with the config's schemas and applies at once.
import { api, ApiError, type ComfyTarget, type Settings } from './api.js';
import { h } from './dom.js';

const THRESHOLDS = ['overall', 'quality', 'correspondence', 'authenticity'] as const;

function numberInput(name: string, value: number | undefined, attributes: Record<string, string | number> = {}): HTMLInputElement {
  return h('input', { type: 'number', name, value: value ?? '', step: 'any', ...attributes });
}

function targetRow(target: ComfyTarget, remove: (row: HTMLElement) => void): HTMLElement {
  const row = h(
    'fieldset',
    { class: 'target' },
    h('legend', {}, 'ComfyUI'),
    h('label', {}, 'URL ', h('input', { name: 'url', value: target.url, placeholder: 'http://127.0.0.1:8188', required: true })),
    h('label', {}, h('input', { type: 'checkbox', name: 'type-output', checked: target.types.includes('output') }), ' outputs'),
    h('label', {}, h('input', { type: 'checkbox', name: 'type-temp', checked: target.types.includes('temp') }), ' previews'),
    h('label', {}, h('input', { type: 'checkbox', name: 'regenerate', checked: target.regenerate }), ' regenerate rejects'),
    h('label', {}, h('input', { type: 'checkbox', name: 'feedback', checked: target.feedback }), ' badges in ComfyUI'),
    h('label', {}, h('input', { type: 'checkbox', name: 'quarantine', checked: target.quarantine }), ' quarantine rejects'),
    h('label', {}, 'output folder ', h('input', { name: 'outputDir', value: target.outputDir ?? '', placeholder: '/path/to/ComfyUI/output' })),
  );
  row.append(h('button', { type: 'button', onclick: () => remove(row) }, 'Remove'));
  return row;
}

function readTarget(row: HTMLElement): ComfyTarget {
  const field = (name: string) => row.querySelector<HTMLInputElement>(`[name="${name}"]`)!;
  const types = (['output', 'temp'] as const).filter((type) => field(`type-${type}`).checked);
  const target: ComfyTarget = { url: field('url').value.trim(), types, regenerate: field('regenerate').checked, feedback: field('feedback').checked, quarantine: field('quarantine').checked };
  if (field('outputDir').value.trim()) target.outputDir = field('outputDir').value.trim();
  return target;
}

export async function settingsView(): Promise<HTMLElement> {
  const settings = await api<Settings>('v1/settings');
  const targets = h('div', { class: 'targets' });
  const remove = (row: HTMLElement) => row.remove();
  for (const target of settings.comfyui) targets.append(targetRow(target, remove));
  const message = h('p', { class: 'message', role: 'status' });
  const form = h(
    'form',
    { class: 'settings', id: 'settings-form' },
    h('h1', {}, 'Settings'),
    h('p', { class: 'muted' }, 'Applied at once and kept across restarts (saved in AGIQA_HOME/settings.json).'),
    h('fieldset', {}, h('legend', {}, 'Thresholds: minimum MOS to accept (empty: not checked)'), THRESHOLDS.map((name) => h('label', {}, `${name} `, numberInput(`threshold-${name}`, settings.policy.thresholds[name], { min: 0, max: 5 })))),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Regeneration and batches'),
      h('label', {}, 'regenerations per prompt ', numberInput('maxRegenerations', settings.policy.maxRegenerations, { min: 0, step: 1 })),
      h('label', {}, 'top-k ', numberInput('topK', settings.policy.topK, { min: 1, step: 1 })),
      h('label', {}, 'keep at least ', numberInput('keepAtLeast', settings.policy.keepAtLeast, { min: 0, step: 1 })),
    ),
    h('h2', {}, 'ComfyUI instances watched'),
    targets,
    h('button', { type: 'button', onclick: () => targets.append(targetRow({ url: '', types: ['output'], regenerate: false, feedback: true, quarantine: false }, remove)) }, 'Add a ComfyUI'),
    h('p', {}, h('button', { type: 'submit', class: 'primary' }, 'Save')),
    message,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = (name: string) => form.querySelector<HTMLInputElement>(`[name="${name}"]`)!.value.trim();
    const optional = (name: string) => (value(name) === '' ? undefined : Number(value(name)));
    const thresholds = Object.fromEntries(THRESHOLDS.map((name) => [name, optional(`threshold-${name}`)]).filter(([, v]) => v !== undefined));
    const next: Settings = {
      policy: { thresholds, keepAtLeast: optional('keepAtLeast') ?? 0, maxRegenerations: optional('maxRegenerations') ?? 0, topK: optional('topK') },
      comfyui: [...targets.querySelectorAll<HTMLElement>('.target')].map(readTarget),
    };
    try {
      await api<Settings>('v1/settings', { method: 'PUT', body: next });
      message.className = 'message ok';
      message.textContent = 'Saved: new images are judged with these settings.';
    } catch (error) {
      message.className = 'message error';
      message.textContent = error instanceof ApiError ? error.message : String(error);
    }
  });
  return form;
}
