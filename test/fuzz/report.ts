export function renderReport(_all: Record<string, unknown>): string {
  return '';
}
