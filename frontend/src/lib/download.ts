// Saves a file the API answered (CSV exports) under a name, without leaving the page.
export async function downloadFile(load: () => Promise<{ data?: unknown }>, fileName: string) {
  const { data } = await load();
  if (!(data instanceof Blob)) return;
  const url = URL.createObjectURL(data);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
