// A thin client: it starts `score-gen lsp` on stdio for Score files and provisioner files.
// Everything else (diagnostics, completion, hover, definition, quick fixes) is the server's.
'use strict';
const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

/** Score files and score-gen provisioner files (the server tells them apart). */
const DOCUMENTS = [
  { scheme: 'file', pattern: '**/score*.{yaml,yml}' },
  { scheme: 'file', pattern: '**/*.score.{yaml,yml}' },
  { scheme: 'file', pattern: '**/*.provisioners.{yaml,yml}' },
  { scheme: 'file', pattern: '**/.score-gen/*/provisioners/*.{yaml,yml}' },
];

let client;

function settings() {
  const cfg = vscode.workspace.getConfiguration('score');
  return { target: cfg.get('target', ''), provisioners: cfg.get('provisioners', []) };
}

async function activate(context) {
  // score.path names a program to run: only in a trusted workspace.
  if (!vscode.workspace.isTrusted) {
    context.subscriptions.push(vscode.workspace.onDidGrantWorkspaceTrust(() => activate(context)));
    return;
  }
  const command = vscode.workspace.getConfiguration('score').get('path', 'score-gen');
  const serverOptions = { command, args: ['lsp'] };
  const clientOptions = {
    documentSelector: DOCUMENTS,
    initializationOptions: settings(),
    synchronize: {
      // Sends `workspace/didChangeConfiguration` with `{score: {...}}` on a settings change.
      configurationSection: 'score',
      // Provisioner files changed on disk re-check the open Score files.
      fileEvents: vscode.workspace.createFileSystemWatcher('**/.score-gen/*/provisioners/*.{yaml,yml}'),
    },
  };
  client = new LanguageClient('score-gen', 'Score (score-gen lsp)', serverOptions, clientOptions);
  context.subscriptions.push(client);
  await client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
