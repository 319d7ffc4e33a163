import { toItemEntries, toVaultEntries } from '../../../../shared/secrets/connect/title-index';

const ID = 'abcdefghijklmnopqrstuvwxyz';

describe('toVaultEntries', () => {
  it('keeps ids and names of a list of 1Password vaults', () => {
    expect(toVaultEntries([{ id: ID, name: 'Payments' }])).toEqual([{ id: ID, name: 'Payments' }]);
  });

  it('refuses the whole list when one id is not a 1Password id', () => {
    expect(() => toVaultEntries([{ id: ID, name: 'Payments' }, { id: '..', name: 'Other' }])).toThrow(
      expect.objectContaining({ code: 'INVALID_RESPONSE', retryable: false }),
    );
  });
});

describe('toItemEntries', () => {
  it('leaves trashed items out', () => {
    expect(toItemEntries([{ id: ID, title: 'Stripe' }, { id: '2'.repeat(26), title: 'Old', trashed: true }])).toEqual([{ id: ID, title: 'Stripe' }]);
  });

  it('refuses the list for an id that is not a 1Password id, even on a trashed item', () => {
    expect(() => toItemEntries([{ id: ID, title: 'Stripe' }, { id: '../../v1/vaults', title: 'Old', trashed: true }])).toThrow(
      expect.objectContaining({ code: 'INVALID_RESPONSE', retryable: false }),
    );
  });
});
